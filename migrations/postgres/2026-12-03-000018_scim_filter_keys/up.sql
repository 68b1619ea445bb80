-- SCIM filters compare names, department, employee number and manager in
-- any case. These keys hold the values lower-cased the way the filter
-- folds them (Rust's Unicode lower-casing, which neither database's lower()
-- matches beyond ASCII), so a filter on them is a query, not a pass over
-- every learner. The server fills them for older rows when it migrates
-- (accounts::learners::fill_filter_keys): display_name_key is set on every
-- row written since, so NULL there marks a row still to fill.
ALTER TABLE users ADD COLUMN display_name_key TEXT;
ALTER TABLE users ADD COLUMN first_name_key TEXT;
ALTER TABLE users ADD COLUMN last_name_key TEXT;
ALTER TABLE users ADD COLUMN department_key TEXT;
ALTER TABLE users ADD COLUMN employee_id_key TEXT;
ALTER TABLE users ADD COLUMN manager_id_key TEXT;
-- The rows still to fill, found without reading every learner at each start
-- (empty once filled).
CREATE INDEX users_without_filter_keys ON users (id) WHERE display_name_key IS NULL;
