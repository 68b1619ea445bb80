-- The RelayState of an SP-initiated request was stored (hashed) but never
-- checked: InResponseTo already ties a response to its request, and return_to
-- is kept here, so no RelayState is sent any more. SQLite cannot drop a UNIQUE
-- column, so the table is rebuilt; outstanding requests are kept.
CREATE TABLE authn_requests_new (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES idp_connections (id) ON DELETE CASCADE,
    return_to TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    test BOOLEAN NOT NULL DEFAULT 0
);
INSERT INTO authn_requests_new (id, org_id, connection_id, return_to, expires_at, test)
    SELECT id, org_id, connection_id, return_to, expires_at, test FROM authn_requests;
DROP TABLE authn_requests;
ALTER TABLE authn_requests_new RENAME TO authn_requests;
