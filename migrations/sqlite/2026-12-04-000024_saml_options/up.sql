-- Per-connection SAML options (issue 17): how the AuthnRequest asks the IdP
-- (signed or not, ForceAuthn, the NameID format, a requested authentication
-- context and its comparison) and whether assertions must be encrypted.
ALTER TABLE idp_connections ADD COLUMN sign_requests BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE idp_connections ADD COLUMN force_authn BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE idp_connections ADD COLUMN name_id_format TEXT;
ALTER TABLE idp_connections ADD COLUMN authn_context_class TEXT;
ALTER TABLE idp_connections ADD COLUMN authn_context_comparison TEXT NOT NULL DEFAULT 'exact';
ALTER TABLE idp_connections ADD COLUMN require_encrypted_assertion BOOLEAN NOT NULL DEFAULT FALSE;
