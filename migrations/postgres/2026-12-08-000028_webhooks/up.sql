-- Webhooks for applications (issue 18): one endpoint per application, and
-- the outbox of deliveries. A delivery row is written in the same
-- transaction as the change it reports, so a change is never committed
-- without its event, and a process that dies before delivering leaves the
-- row for another process. The HMAC key is kept in clear: signing needs it.
CREATE TABLE webhooks (
    application_id TEXT PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES webhooks (application_id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    delivered_at TIMESTAMP,
    failed_at TIMESTAMP,
    last_status INTEGER,
    last_error TEXT
);
-- What the worker looks for: undelivered rows by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (application_id, created_at);
