-- Payments: the reconciler (src/payments/reconciler.ts) settles payments a processor failure left
-- pending, and gives up on them as 'failed' after a bounded number of tries. SQLite cannot change a
-- CHECK constraint in place, so the table is rebuilt with the same rows (nothing references it).
CREATE TABLE payments_next (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  idempotency_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  machine_id TEXT NOT NULL,
  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
  currency TEXT NOT NULL,
  card_token TEXT NOT NULL,
  items TEXT NOT NULL,
  -- pending until the processor's answer is known; failed = the reconciler gave up (failure_reason).
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'declined', 'failed')),
  processor_charge_id TEXT,
  decline_code TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  -- The processor's raw answer (its JSON body) for the settled payment; nulled after
  -- PAYMENT_RAW_RETENTION_DAYS by the retention sweeper (the ledger row stays).
  processor_answer TEXT,
  -- Reconciler tries so far, when it may try next (epoch ms; NULL = as soon as the payment is old
  -- enough), and why it gave up.
  reconcile_attempts INTEGER NOT NULL DEFAULT 0,
  next_reconcile_at INTEGER,
  failure_reason TEXT,
  UNIQUE (tenant_id, idempotency_key)
);
INSERT INTO payments_next (id, tenant_id, idempotency_key, request_hash, machine_id, amount_cents, currency,
  card_token, items, status, processor_charge_id, decline_code, created_at, updated_at)
SELECT id, tenant_id, idempotency_key, request_hash, machine_id, amount_cents, currency,
  card_token, items, status, processor_charge_id, decline_code, created_at, updated_at
FROM payments;
DROP TABLE payments;
ALTER TABLE payments_next RENAME TO payments;
CREATE INDEX payments_by_machine ON payments(tenant_id, machine_id, created_at DESC, id DESC);
-- The reconciler's scan: pending payments, oldest first.
CREATE INDEX payments_pending ON payments(created_at) WHERE status = 'pending';
