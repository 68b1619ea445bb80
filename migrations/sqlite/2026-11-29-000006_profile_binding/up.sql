-- LinkedIn profile binding. Same steps as the PostgreSQL twin.

-- A learner's connected LinkedIn member: one per learner, and one learner per
-- member within an organization. No tokens are kept.
CREATE TABLE linkedin_bindings (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    sub TEXT NOT NULL,
    name TEXT,
    email TEXT,
    picture TEXT,
    bound_at TIMESTAMP NOT NULL,
    UNIQUE (org_id, sub)
);

-- Authorization requests sent to LinkedIn and awaiting their callback, keyed
-- by the SHA-256 of `state`; bound to the learner's session. The PKCE
-- verifier and nonce are needed once, at the callback, then deleted.
CREATE TABLE oidc_pending (
    state_hash TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pkce_verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    return_to TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX oidc_pending_expires_at ON oidc_pending (expires_at);

-- "Not now" on the optional prompt is remembered.
ALTER TABLE users ADD COLUMN linkedin_prompt_dismissed_at TIMESTAMP;
