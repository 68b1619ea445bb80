ALTER TABLE idp_connections DROP COLUMN require_encrypted_assertion;
ALTER TABLE idp_connections DROP COLUMN authn_context_comparison;
ALTER TABLE idp_connections DROP COLUMN authn_context_class;
ALTER TABLE idp_connections DROP COLUMN name_id_format;
ALTER TABLE idp_connections DROP COLUMN force_authn;
ALTER TABLE idp_connections DROP COLUMN sign_requests;
