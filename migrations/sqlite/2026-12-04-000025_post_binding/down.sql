ALTER TABLE idp_connections DROP COLUMN request_binding;
ALTER TABLE idp_connections DROP COLUMN sso_post_url;
