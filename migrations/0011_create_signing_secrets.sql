-- Per-tenant signing secrets of outbound deliveries (Standard Webhooks, whsec_…): http jobs today,
-- webhooks later. The secret itself is stored sealed (AES-256-GCM under the SIGNING_SECRETS_KEY
-- secret, bound to tenant and id); it is shown once, when created. expires_at NULL = the current
-- secret; a rotated-out secret keeps signing alongside the new one until expires_at.
CREATE TABLE signing_secrets (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  sealed_secret TEXT NOT NULL,
  prefix TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);
-- At most one current secret per tenant (concurrent first uses create one).
CREATE UNIQUE INDEX signing_secrets_current ON signing_secrets(tenant_id) WHERE expires_at IS NULL;
CREATE INDEX signing_secrets_by_tenant ON signing_secrets(tenant_id, created_at);
