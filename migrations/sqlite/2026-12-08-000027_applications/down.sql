ALTER TABLE organizations DROP COLUMN apps_require_license;
DROP TABLE oauth_access_tokens;
DROP TABLE oauth_codes;
DROP TABLE applications;
