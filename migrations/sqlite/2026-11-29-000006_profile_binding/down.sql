ALTER TABLE users DROP COLUMN linkedin_prompt_dismissed_at;
DROP TABLE oidc_pending;
DROP TABLE linkedin_bindings;
