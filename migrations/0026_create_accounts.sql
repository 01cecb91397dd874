-- End-user accounts of a tenant's own app (issue 17, section 1): users, sessions (one refresh-token
-- family each), refresh tokens (hashed), recovery codes (hashed) and the JWT signing keys.
CREATE TABLE account_users (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  -- Lowercased: unique per tenant without regard to case.
  username TEXT NOT NULL,
  email TEXT NOT NULL,
  -- PHC string: $argon2id$v=19$m=…,t=…,p=…$salt$hash (parameters travel with the hash).
  password_hash TEXT NOT NULL,
  -- TOTP secrets sealed with sealText; pending until the first code confirms the enrolment.
  totp_secret_sealed TEXT,
  totp_pending_sealed TEXT,
  -- The last accepted TOTP time step: a code is accepted once.
  totp_last_step INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX account_users_username ON account_users(tenant_id, username);
CREATE UNIQUE INDEX account_users_email ON account_users(tenant_id, email);

CREATE TABLE account_recovery_codes (
  user_id TEXT NOT NULL REFERENCES account_users(id),
  code_hash TEXT NOT NULL,
  used_at INTEGER,
  PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE account_sessions (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  -- Absolute end of the session: no refresh after it.
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  revoke_reason TEXT,
  user_agent TEXT,
  ip TEXT
);
CREATE INDEX account_sessions_by_user ON account_sessions(tenant_id, user_id, created_at);
CREATE INDEX account_sessions_by_expiry ON account_sessions(expires_at);

-- One row per refresh token ever issued; a used token keeps its row (replaced_by) so that its
-- reuse is recognised and revokes the session.
CREATE TABLE account_refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  used_at INTEGER,
  replaced_by TEXT
);
CREATE INDEX account_refresh_tokens_by_session ON account_refresh_tokens(session_id);
CREATE INDEX account_refresh_tokens_by_age ON account_refresh_tokens(created_at);

-- Access-token signing keys (platform-wide; the tenant is a claim). retired_at IS NULL: the current key.
CREATE TABLE account_signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  private_sealed TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER
);
CREATE INDEX account_signing_keys_by_retirement ON account_signing_keys(retired_at);
