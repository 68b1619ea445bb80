-- Certificate rollover without an outage (issue 17): a certificate the IdP's
-- metadata no longer lists stays trusted, marked with when it was dropped,
-- until an administrator removes it or it expires.
ALTER TABLE idp_certificates ADD COLUMN retired_at TIMESTAMP;
