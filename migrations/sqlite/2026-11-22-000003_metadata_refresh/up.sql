-- Connections added from a metadata URL are refreshed daily; a failed refresh
-- keeps the last good copy and records why.
ALTER TABLE idp_connections ADD COLUMN metadata_fetched_at TIMESTAMP;
ALTER TABLE idp_connections ADD COLUMN metadata_error TEXT;
