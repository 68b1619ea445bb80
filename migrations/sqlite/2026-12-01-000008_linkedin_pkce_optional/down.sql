CREATE TABLE oidc_pending_old (
    state_hash TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pkce_verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    return_to TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
INSERT INTO oidc_pending_old SELECT state_hash, session_hash, user_id, COALESCE(pkce_verifier, ''), nonce, return_to, expires_at FROM oidc_pending;
DROP TABLE oidc_pending;
ALTER TABLE oidc_pending_old RENAME TO oidc_pending;
CREATE INDEX oidc_pending_expires_at ON oidc_pending (expires_at);
