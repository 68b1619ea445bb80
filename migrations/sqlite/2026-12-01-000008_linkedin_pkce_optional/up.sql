-- LinkedIn refuses PKCE unless it enabled it for the app (linkedin_pkce), so a
-- pending connection may have no verifier. SQLite cannot drop NOT NULL: the
-- table is rebuilt, pending attempts kept.
CREATE TABLE oidc_pending_new (
    state_hash TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pkce_verifier TEXT,
    nonce TEXT NOT NULL,
    return_to TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
INSERT INTO oidc_pending_new SELECT state_hash, session_hash, user_id, pkce_verifier, nonce, return_to, expires_at FROM oidc_pending;
DROP TABLE oidc_pending;
ALTER TABLE oidc_pending_new RENAME TO oidc_pending;
CREATE INDEX oidc_pending_expires_at ON oidc_pending (expires_at);
