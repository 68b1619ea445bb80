-- Seatgate as an OpenID Connect provider for the learning applications behind
-- it (issue 18). An application is an OAuth client; its id is the client_id
-- and its secret is kept only as a SHA-256 (NULL: a public client, which must
-- use PKCE). Redirect URIs are matched exactly, one per line.
CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    launch_url TEXT NOT NULL,
    id_token_alg TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Authorization codes, single use: used_at is set by the one exchange that
-- wins; a second exchange of the same code revokes what the first issued
-- (RFC 6749, 4.1.2).
CREATE TABLE oauth_codes (
    code_hash TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    auth_time TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX oauth_codes_expiry ON oauth_codes (expires_at);

-- Access tokens for /oauth/userinfo, opaque to applications.
CREATE TABLE oauth_access_tokens (
    token_hash TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX oauth_access_tokens_code ON oauth_access_tokens (code_hash);
CREATE INDEX oauth_access_tokens_expiry ON oauth_access_tokens (expires_at);

-- An organization may keep learners without a license out of the applications.
ALTER TABLE organizations ADD COLUMN apps_require_license BOOLEAN NOT NULL DEFAULT FALSE;
