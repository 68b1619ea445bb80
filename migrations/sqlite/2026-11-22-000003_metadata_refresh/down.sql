ALTER TABLE idp_connections DROP COLUMN metadata_error;
ALTER TABLE idp_connections DROP COLUMN metadata_fetched_at;
