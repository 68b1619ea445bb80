-- SCIM lists page learners oldest first and count those the configuration
-- sees (active, or managed over SCIM, and not another configuration's):
-- with the visibility columns in the index, the count and a deep OFFSET
-- read the index alone instead of every learner's row.
DROP INDEX users_org_created;
CREATE INDEX users_org_created ON users (org_id, created_at, id, active, scim_config_id);
