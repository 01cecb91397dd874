-- Dead letters of several queues share one operator view (GET /api/v1/dead-letters): each row names
-- the queue it is replayed into. Rows kept before this migration are telemetry's.
ALTER TABLE dead_letters ADD COLUMN queue TEXT NOT NULL DEFAULT 'floodgate-telemetry';
CREATE INDEX dead_letters_by_queue ON dead_letters(queue, created_at);

-- End users' e-mail tokens (issue 17 §1, ASVS 2.5): password reset and address verification. Only
-- the SHA-256 of a token is kept; a token is spent once (used_at) and dies at expires_at.
ALTER TABLE account_users ADD COLUMN email_verified_at INTEGER;
CREATE TABLE account_email_tokens (
  token_hash TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  purpose TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_verify')),
  -- The address it was sent to: a verification only counts while it is still the user's address.
  email TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX account_email_tokens_by_user ON account_email_tokens(tenant_id, user_id, purpose);
CREATE INDEX account_email_tokens_by_expiry ON account_email_tokens(expires_at);
