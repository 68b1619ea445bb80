-- How an organization's learners sign in: 'sso' (their IdP), 'linkedin'
-- (organizations without SSO: invited learners sign in with LinkedIn) or 'both'.
ALTER TABLE organizations ADD COLUMN learner_sign_in TEXT NOT NULL DEFAULT 'sso';

-- A LinkedIn sign-in under way in a browser without a session: an invited
-- learner activating (invitation_id) or a learner signing in. The browser
-- holds a token whose hash is kept, so the answer counts only in the browser
-- that asked.
CREATE TABLE linkedin_sign_ins (
    state_hash TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    invitation_id TEXT REFERENCES invitations (id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX linkedin_sign_ins_expires_at ON linkedin_sign_ins (expires_at);
