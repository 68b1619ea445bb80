-- Files uploaded in the console for import (issue 16): kept from the upload
-- through the dry-run preview to the applied import, whose id they share, so
-- the preview and the job applying it survive the page being closed. The
-- file and its preview are emptied once applied; the result stays to
-- download. `updated_at` is the job's heartbeat: a job that stopped beating
-- (its process ended) is shown as interrupted and may be started again.
CREATE TABLE import_files (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    file_name TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TIMESTAMP NOT NULL,
    phase TEXT NOT NULL,
    content BYTEA NOT NULL,
    rows_total INTEGER,
    rows_done INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    preview BYTEA,
    result BYTEA,
    send_invitations BOOLEAN NOT NULL DEFAULT FALSE,
    failure TEXT,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX import_files_org ON import_files (org_id, uploaded_at);
