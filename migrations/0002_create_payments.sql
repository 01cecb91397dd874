-- Vending-machine payments: a ledger, one row per (tenant, Idempotency-Key). The unique constraint
-- is the second line of defence behind the IdempotencyKey Durable Object: even after the key's
-- record expired, or if it were lost, a repeat of the same key can never create a second payment.
CREATE TABLE payments (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  idempotency_key TEXT NOT NULL,
  -- SHA-256 of the canonical request body: a reused key with another body is refused.
  request_hash TEXT NOT NULL,
  machine_id TEXT NOT NULL,
  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
  currency TEXT NOT NULL,
  card_token TEXT NOT NULL,
  -- JSON array of {slot, sku, quantity, price_cents}.
  items TEXT NOT NULL,
  -- pending until the processor's answer is known (a timeout or 5xx leaves it pending; a retry settles it).
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'declined')),
  processor_charge_id TEXT,
  decline_code TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX payments_by_machine ON payments(tenant_id, machine_id, created_at DESC, id DESC);
