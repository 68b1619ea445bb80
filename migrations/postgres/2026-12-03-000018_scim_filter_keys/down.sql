DROP INDEX users_without_filter_keys;
ALTER TABLE users DROP COLUMN manager_id_key;
ALTER TABLE users DROP COLUMN employee_id_key;
ALTER TABLE users DROP COLUMN department_key;
ALTER TABLE users DROP COLUMN last_name_key;
ALTER TABLE users DROP COLUMN first_name_key;
ALTER TABLE users DROP COLUMN display_name_key;
