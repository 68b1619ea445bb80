ALTER TABLE idp_certificates DROP COLUMN retired_at;
