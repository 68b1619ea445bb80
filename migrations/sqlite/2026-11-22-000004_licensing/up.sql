-- License pools and seat assignments. The invariant "assigned <= seats" for
-- new assignments is kept by a conditional UPDATE of the pool's counter
-- (docs/licensing.md); the partial unique index keeps one active seat per
-- learner and pool.
CREATE TABLE license_pools (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    license_type TEXT NOT NULL,
    seats INTEGER NOT NULL CHECK (seats >= 0),
    assigned INTEGER NOT NULL CHECK (assigned >= 0),
    created_at TIMESTAMP NOT NULL,
    -- Set when auto-assign first finds the pool full, cleared when a seat is
    -- free again: one "out of seats" alert per exhaustion episode.
    exhausted_since TIMESTAMP,
    UNIQUE (org_id, license_type)
);

CREATE TABLE license_assignments (
    id TEXT PRIMARY KEY,
    pool_id TEXT NOT NULL REFERENCES license_pools (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cause TEXT NOT NULL,
    assigned_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoke_cause TEXT
);
CREATE UNIQUE INDEX license_assignments_active ON license_assignments (pool_id, user_id) WHERE revoked_at IS NULL;
CREATE INDEX license_assignments_user ON license_assignments (user_id);

-- The pool "Automatically assign licenses" draws from, by license type.
ALTER TABLE organizations ADD COLUMN auto_assign_license_type TEXT;
