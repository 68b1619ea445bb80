-- Foundation schema. The PostgreSQL twin of this file holds the same steps; ids are
-- UUIDs stored as text and timestamps are naive UTC so that one diesel schema
-- serves both backends.
CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    auto_assign_licenses BOOLEAN NOT NULL DEFAULT 0,
    profile_binding_policy TEXT NOT NULL DEFAULT 'optional'
        CHECK (profile_binding_policy IN ('required', 'optional', 'disabled')),
    created_at TIMESTAMP NOT NULL
);

-- Learners. Emails are stored normalised (trimmed, lower-case), which makes the
-- unique index case-insensitive on both backends.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_sign_in_at TIMESTAMP,
    UNIQUE (org_id, email)
);

-- Local administrators of one organization. An email is one admin account
-- across the whole service, so the sign-in form needs no organization field.
CREATE TABLE admin_accounts (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    created_at TIMESTAMP NOT NULL
);

-- One-time sign-in links; only the SHA-256 of the token is kept.
CREATE TABLE admin_sign_in_links (
    token_hash TEXT PRIMARY KEY,
    admin_id TEXT NOT NULL REFERENCES admin_accounts (id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

-- Server-side sessions; the cookie holds the token, the table its SHA-256.
-- A session with neither admin nor user is an anonymous one that only carries
-- the CSRF token for a sign-in form.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    csrf_token TEXT NOT NULL,
    admin_id TEXT REFERENCES admin_accounts (id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    CHECK (admin_id IS NULL OR user_id IS NULL)
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Failed password sign-ins, one row each, counted over a sliding window per
-- key (an email or a client address). Insert-only, so no upsert is needed.
CREATE TABLE sign_in_failures (
    id TEXT PRIMARY KEY,
    throttle_key TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX sign_in_failures_key_time ON sign_in_failures (throttle_key, failed_at);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    org_id TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    details TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_org_time ON audit_events (org_id, created_at);
