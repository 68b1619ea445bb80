ALTER TABLE organizations DROP COLUMN auto_assign_license_type;
DROP TABLE license_assignments;
DROP TABLE license_pools;
