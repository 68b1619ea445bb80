DROP TABLE audit_events;
DROP TABLE sign_in_failures;
DROP TABLE sessions;
DROP TABLE admin_sign_in_links;
DROP TABLE admin_accounts;
DROP TABLE users;
DROP TABLE organizations;
