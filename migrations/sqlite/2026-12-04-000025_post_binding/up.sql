-- The HTTP-POST request binding (issue 17): the IdP's HTTP-POST single
-- sign-on URL from its metadata, and which binding a connection sends its
-- AuthnRequest over.
ALTER TABLE idp_connections ADD COLUMN sso_post_url TEXT;
ALTER TABLE idp_connections ADD COLUMN request_binding TEXT NOT NULL DEFAULT 'redirect';
