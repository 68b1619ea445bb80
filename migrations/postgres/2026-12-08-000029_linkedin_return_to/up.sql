-- Where a LinkedIn sign-in returns to (an application's authorization
-- request, say), as SP-initiated SAML sign-ins already keep it.
ALTER TABLE linkedin_sign_ins ADD COLUMN return_to TEXT NOT NULL DEFAULT '/';
