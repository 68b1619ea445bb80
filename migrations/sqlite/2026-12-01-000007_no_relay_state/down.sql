CREATE TABLE authn_requests_old (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES idp_connections (id) ON DELETE CASCADE,
    relay_state_hash TEXT NOT NULL UNIQUE,
    return_to TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    test BOOLEAN NOT NULL DEFAULT 0
);
INSERT INTO authn_requests_old (id, org_id, connection_id, relay_state_hash, return_to, expires_at, test)
    SELECT id, org_id, connection_id, id, return_to, expires_at, test FROM authn_requests;
DROP TABLE authn_requests;
ALTER TABLE authn_requests_old RENAME TO authn_requests;
