DROP TABLE org_email_domains;
