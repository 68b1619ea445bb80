DROP INDEX users_org_created;
CREATE INDEX users_org_created ON users (org_id, created_at, id);
