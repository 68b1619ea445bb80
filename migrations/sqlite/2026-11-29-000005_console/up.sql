-- The admin console: per-organization learner session lifetime, operator
-- accounts that see every organization, learners promoted to administrators
-- (SSO admins), the one-shot flash message of a session, and test sign-ins
-- started from the console. Same steps as the PostgreSQL twin.
ALTER TABLE organizations ADD COLUMN learner_session_minutes INTEGER NOT NULL DEFAULT 480;
ALTER TABLE admin_accounts ADD COLUMN operator BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN is_admin BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN flash TEXT;
-- A connection may grant the console to learners whose assertion carries
-- attribute admin_role_attribute with value admin_role_value (an IdP group).
ALTER TABLE idp_connections ADD COLUMN admin_role_attribute TEXT;
ALTER TABLE idp_connections ADD COLUMN admin_role_value TEXT;
ALTER TABLE authn_requests ADD COLUMN test BOOLEAN NOT NULL DEFAULT 0;
CREATE INDEX users_org_last_sign_in ON users (org_id, last_sign_in_at);
CREATE INDEX audit_events_org_target ON audit_events (org_id, target);
