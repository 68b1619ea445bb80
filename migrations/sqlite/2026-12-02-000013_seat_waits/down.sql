DROP TABLE seat_waits;
ALTER TABLE license_pools DROP COLUMN wait_seq;
