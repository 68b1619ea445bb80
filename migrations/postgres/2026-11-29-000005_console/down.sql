DROP INDEX audit_events_org_target;
DROP INDEX users_org_last_sign_in;
ALTER TABLE authn_requests DROP COLUMN test;
ALTER TABLE idp_connections DROP COLUMN admin_role_value;
ALTER TABLE idp_connections DROP COLUMN admin_role_attribute;
ALTER TABLE sessions DROP COLUMN flash;
ALTER TABLE users DROP COLUMN is_admin;
ALTER TABLE admin_accounts DROP COLUMN operator;
ALTER TABLE organizations DROP COLUMN learner_session_minutes;
