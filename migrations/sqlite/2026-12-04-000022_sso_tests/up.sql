-- Test sign-ins that teach (issue 17): the verdict of each test sign-in,
-- passed or refused, with what the IdP sent, for the console to show the
-- administrator who started it. Kept a week.
CREATE TABLE sso_tests (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    report TEXT NOT NULL
);
