-- A status per connection (issue 17): when a learner last signed in through
-- it, set at most once a minute so that a storm of sign-ins does not queue
-- on the connection's row.
ALTER TABLE idp_connections ADD COLUMN last_signed_in_at TIMESTAMP;
