-- The waiting list (issue 15): learners refused a seat because the pool was
-- full, in arrival order; when a seat frees, the longest-waiting eligible
-- learner gets it in the same transaction. `cause` is what would have
-- assigned the seat (sso_auto_assign or scim). Arrival order is `position`,
-- drawn from the pool's `wait_seq` under the pool row's lock, not the
-- clock: two arrivals in one clock tick still keep their order.
ALTER TABLE license_pools ADD COLUMN wait_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE seat_waits (
    pool_id TEXT NOT NULL REFERENCES license_pools (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cause TEXT NOT NULL,
    position INTEGER NOT NULL,
    since TIMESTAMP NOT NULL,
    PRIMARY KEY (pool_id, user_id)
);
CREATE INDEX seat_waits_pool_position ON seat_waits (pool_id, position);
CREATE INDEX seat_waits_user_id ON seat_waits (user_id);
