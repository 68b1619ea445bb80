-- Bulk changes from CSV files (issue 16): who started each import, from
-- where, and what its rows came to. Dry runs change nothing and are not
-- recorded; an import that failed as a whole keeps the reason.
CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    source TEXT NOT NULL,
    file_name TEXT NOT NULL,
    started_by TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    created INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    assigned INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    no_seat INTEGER NOT NULL DEFAULT 0,
    refused INTEGER NOT NULL DEFAULT 0,
    failure TEXT
);
CREATE INDEX imports_org_started ON imports (org_id, started_at);
