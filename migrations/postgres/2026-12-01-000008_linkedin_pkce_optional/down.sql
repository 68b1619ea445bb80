UPDATE oidc_pending SET pkce_verifier = '' WHERE pkce_verifier IS NULL;
ALTER TABLE oidc_pending ALTER COLUMN pkce_verifier SET NOT NULL;
