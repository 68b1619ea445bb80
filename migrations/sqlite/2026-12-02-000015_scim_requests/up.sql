-- SCIM requests a configuration's IdP sent that were refused, with the
-- reason, for the console (issue 15: "recent provisioning requests with
-- their errors"). Only the newest 100 per configuration are kept.
CREATE TABLE scim_request_errors (
    id TEXT PRIMARY KEY,
    config_id TEXT NOT NULL REFERENCES scim_configs (id) ON DELETE CASCADE,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    detail TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX scim_request_errors_config_at ON scim_request_errors (config_id, at);
