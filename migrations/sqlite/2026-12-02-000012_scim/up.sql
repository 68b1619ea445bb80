-- SCIM 2.0 provisioning (issue 15). A configuration is one IdP's SCIM client
-- for one organization; its bearer token is kept only as its SHA-256.
CREATE TABLE scim_configs (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    auto_assign BOOLEAN NOT NULL DEFAULT 0,
    license_type TEXT,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    UNIQUE (org_id, name)
);

-- What a SCIM client knows a learner by, besides the email: its userName (as
-- sent; matched case-insensitively through user_name_key), its externalId,
-- and the manager's SCIM id. A learner pushed by a configuration is managed
-- by it (the IdP is the source of truth for its licenses); removing the
-- configuration hands the learner back to the administrators. An inactive
-- learner keeps their history but cannot sign in. version counts changes,
-- for SCIM's ETags.
ALTER TABLE users ADD COLUMN scim_config_id TEXT REFERENCES scim_configs (id) ON DELETE SET NULL;
ALTER TABLE users ADD COLUMN user_name TEXT;
ALTER TABLE users ADD COLUMN user_name_key TEXT;
ALTER TABLE users ADD COLUMN external_id TEXT;
ALTER TABLE users ADD COLUMN manager_id TEXT;
ALTER TABLE users ADD COLUMN active BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN updated_at TIMESTAMP;
CREATE UNIQUE INDEX users_org_user_name_key ON users (org_id, user_name_key);
CREATE UNIQUE INDEX users_org_external_id ON users (org_id, external_id);
-- SCIM lists page through an organization oldest first.
CREATE INDEX users_org_created ON users (org_id, created_at, id);
