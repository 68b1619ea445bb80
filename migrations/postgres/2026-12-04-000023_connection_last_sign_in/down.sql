ALTER TABLE idp_connections DROP COLUMN last_signed_in_at;
