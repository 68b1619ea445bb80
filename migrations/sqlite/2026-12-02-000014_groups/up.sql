-- Groups of learners (issue 15), one concept for every source: pushed over
-- SCIM (scim_config_id names the configuration; labelled IdP), or, later,
-- made from SAML attributes. A group may be mapped to a license type: its
-- members hold that license while they are in it.
CREATE TABLE learner_groups (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    external_id TEXT,
    scim_config_id TEXT REFERENCES scim_configs (id) ON DELETE SET NULL,
    license_type TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX learner_groups_org_id ON learner_groups (org_id);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES learner_groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_id ON group_members (user_id);
