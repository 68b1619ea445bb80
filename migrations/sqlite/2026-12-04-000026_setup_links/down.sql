ALTER TABLE sessions DROP COLUMN setup_link_id;
DROP TABLE setup_links;
