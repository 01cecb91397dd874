-- Devices (vending machines, trucks) and their credentials; report windows; restock and maintenance planning.
CREATE TABLE devices (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  device_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('vending', 'truck')),
  timezone TEXT NOT NULL,
  city TEXT NOT NULL,
  lat REAL,
  lng REAL,
  -- SHA-256 of the bearer token; the token itself is shown once and never stored.
  token_hash TEXT NOT NULL UNIQUE,
  token_prefix TEXT NOT NULL,
  -- HMAC key for devices that sign their requests (NULL: bearer token only). HMAC needs the key
  -- itself on the verifying side, so unlike the token it cannot be stored as a hash.
  signing_secret TEXT,
  created_at INTEGER NOT NULL,
  rotated_at INTEGER,
  revoked_at INTEGER,
  PRIMARY KEY (tenant_id, device_id)
);
CREATE INDEX devices_by_city ON devices(tenant_id, city, kind);
CREATE INDEX devices_by_timezone ON devices(tenant_id, timezone, kind);

-- A tenant's nightly report window in each machine's local time; no row = 00:00 for 120 minutes.
CREATE TABLE report_windows (
  tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
  start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
  duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
  updated_at INTEGER NOT NULL
);

-- The latest night each machine reported (kept by applyReportToPlanning; read by the missed-report check).
CREATE TABLE device_last_report (
  tenant_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  report_date TEXT NOT NULL,
  reported_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, device_id)
);

-- What each machine needs, replaced by every newer report.
CREATE TABLE restock_needs (
  tenant_id TEXT NOT NULL,
  machine_id TEXT NOT NULL,
  slot TEXT NOT NULL,
  sku TEXT NOT NULL,
  count INTEGER NOT NULL,
  capacity INTEGER NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  report_date TEXT NOT NULL,
  PRIMARY KEY (tenant_id, machine_id, slot)
);

CREATE TABLE maintenance_tickets (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  machine_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  -- The machine's local date the problem belongs to: one ticket per machine, reason and day.
  day TEXT NOT NULL,
  detail TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  opened_at INTEGER NOT NULL,
  closed_at INTEGER,
  UNIQUE (tenant_id, machine_id, reason, day)
);
CREATE INDEX maintenance_tickets_by_status ON maintenance_tickets(tenant_id, status, id);

-- The morning route plan of a city for one local date, built once by the cron trigger.
CREATE TABLE route_plans (
  tenant_id TEXT NOT NULL,
  city TEXT NOT NULL,
  plan_date TEXT NOT NULL,
  timezone TEXT NOT NULL,
  machines INTEGER NOT NULL,
  units INTEGER NOT NULL,
  -- JSON: [{machine_id, items: [{slot, sku, quantity}]}]
  stops TEXT NOT NULL,
  built_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, city, plan_date)
);
