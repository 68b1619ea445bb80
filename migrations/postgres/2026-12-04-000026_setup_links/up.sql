-- Setup links (issue 17): a single-use, expiring link that lets the
-- customer's IT team set up this organization's SSO without a console
-- account. The link's token is stored hashed; once opened, the browser that
-- opened it holds a session limited to the Single sign-on pages, valid while
-- the link is (not revoked, not expired).
CREATE TABLE setup_links (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    opened_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX setup_links_org ON setup_links (org_id, created_at);
ALTER TABLE sessions ADD COLUMN setup_link_id TEXT;
