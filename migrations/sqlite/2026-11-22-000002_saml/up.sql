-- SAML single sign-on: IdP connections, outstanding requests, the replay
-- cache, learner identities and the recent SSO errors. Same steps as the
-- PostgreSQL twin.

-- One identity provider of one organization.
CREATE TABLE idp_connections (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    sso_url TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    allow_idp_initiated BOOLEAN NOT NULL,
    require_signed_assertion BOOLEAN NOT NULL,
    allow_sha1 BOOLEAN NOT NULL,
    attribute_preset TEXT NOT NULL,
    attribute_overrides TEXT NOT NULL,
    metadata_url TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (org_id, entity_id)
);

-- Signing certificates of a connection (several during a rollover).
CREATE TABLE idp_certificates (
    connection_id TEXT NOT NULL REFERENCES idp_connections (id) ON DELETE CASCADE,
    fingerprint_sha256 TEXT NOT NULL,
    der_base64 TEXT NOT NULL,
    subject TEXT NOT NULL,
    not_after TIMESTAMP NOT NULL,
    PRIMARY KEY (connection_id, fingerprint_sha256)
);

-- SP-initiated requests awaiting their response, keyed by the AuthnRequest ID;
-- the RelayState token is kept hashed.
CREATE TABLE authn_requests (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES idp_connections (id) ON DELETE CASCADE,
    relay_state_hash TEXT NOT NULL UNIQUE,
    return_to TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- Assertion IDs seen, until their assertions expire (replay cache).
CREATE TABLE used_assertions (
    connection_id TEXT NOT NULL REFERENCES idp_connections (id) ON DELETE CASCADE,
    assertion_id TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (connection_id, assertion_id)
);
CREATE INDEX used_assertions_expires_at ON used_assertions (expires_at);

-- Who a NameID of a connection is.
CREATE TABLE identities (
    connection_id TEXT NOT NULL REFERENCES idp_connections (id) ON DELETE CASCADE,
    name_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (connection_id, name_id)
);
CREATE INDEX identities_user ON identities (user_id);

-- How far the IdP's clock may differ from ours when checking time windows.
ALTER TABLE organizations ADD COLUMN clock_skew_seconds INTEGER NOT NULL DEFAULT 180;

ALTER TABLE users ADD COLUMN first_name TEXT;
ALTER TABLE users ADD COLUMN last_name TEXT;
ALTER TABLE users ADD COLUMN department TEXT;
ALTER TABLE users ADD COLUMN employee_id TEXT;

-- Why recent sign-ins failed, for the organization's IdP admin.
CREATE TABLE sso_errors (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    connection_id TEXT,
    reference TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sso_errors_org_time ON sso_errors (org_id, created_at);
