ALTER TABLE authn_requests ADD COLUMN relay_state_hash TEXT;
UPDATE authn_requests SET relay_state_hash = id;
ALTER TABLE authn_requests ALTER COLUMN relay_state_hash SET NOT NULL;
ALTER TABLE authn_requests ADD UNIQUE (relay_state_hash);
