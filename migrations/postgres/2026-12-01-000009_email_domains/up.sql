-- The email domains of an organization's learners, so the start page can
-- send "ann@acme.example" to Acme's sign-in. A domain belongs to one
-- organization at most.
CREATE TABLE org_email_domains (
    domain TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX org_email_domains_org_id ON org_email_domains (org_id);
