-- LinkedIn refuses PKCE unless it enabled it for the app (linkedin_pkce), so a
-- pending connection may have no verifier.
ALTER TABLE oidc_pending ALTER COLUMN pkce_verifier DROP NOT NULL;
