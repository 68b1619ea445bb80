-- Learners invited by email. The link's token is kept only as its SHA-256;
-- an invitation ends accepted (the learner signed in), cancelled or expired.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    cancelled_at TIMESTAMP,
    sent_at TIMESTAMP,
    send_error TEXT
);
CREATE INDEX invitations_org_id ON invitations (org_id);
CREATE INDEX invitations_user_id ON invitations (user_id);
