-- The RelayState of an SP-initiated request was stored (hashed) but never
-- checked: InResponseTo already ties a response to its request, and return_to
-- is kept here, so no RelayState is sent any more.
ALTER TABLE authn_requests DROP COLUMN relay_state_hash;
