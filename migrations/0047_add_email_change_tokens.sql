-- E-mail address change (issue 17 §1): a third purpose of end users' e-mail tokens. The token is
-- mailed to the NEW address (kept in `email`) and is bound to the session that asked for it
-- (`session_id`): it completes only while that session is live. SQLite cannot widen a CHECK in
-- place, so the table is rebuilt with its rows and indexes (nothing references it).
CREATE TABLE account_email_tokens_next (
  token_hash TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  purpose TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_verify', 'email_change')),
  -- The address it was sent to: a verification only counts while it is still the user's address;
  -- for an address change, the address the account moves to.
  email TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  -- email_change only: the session that asked (re-authenticated with the password).
  session_id TEXT
);
INSERT INTO account_email_tokens_next (token_hash, tenant_id, user_id, purpose, email, created_at, expires_at, used_at)
  SELECT token_hash, tenant_id, user_id, purpose, email, created_at, expires_at, used_at FROM account_email_tokens;
DROP TABLE account_email_tokens;
ALTER TABLE account_email_tokens_next RENAME TO account_email_tokens;
CREATE INDEX account_email_tokens_by_user ON account_email_tokens(tenant_id, user_id, purpose);
CREATE INDEX account_email_tokens_by_expiry ON account_email_tokens(expires_at);
