import type { DeviceKind } from "./domain";

export type DeviceRow = {
	tenant_id: string;
	device_id: string;
	kind: DeviceKind;
	timezone: string;
	city: string;
	lat: number | null;
	lng: number | null;
	token_prefix: string;
	signed: number;
	created_at: number;
	rotated_at: number | null;
	revoked_at: number | null;
};

/** A device ready to insert: its credentials already hashed. */
export type DeviceInsert = Pick<
	DeviceRow,
	"device_id" | "kind" | "timezone" | "city" | "lat" | "lng" | "token_prefix"
> & {
	token_hash: string;
	signing_secret: string | null;
};

/** What authenticating a device token needs, in one query: the device, its tenant and its limits. */
export type DeviceLookup = {
	tenant_id: string;
	tenant_name: string;
	route_limits: string | null;
	device_id: string;
	signing_secret: string | null;
	revoked_at: number | null;
	kind: string;
	timezone: string;
};

const COLUMNS =
	"tenant_id, device_id, kind, timezone, city, lat, lng, token_prefix, signing_secret IS NOT NULL AS signed, created_at, rotated_at, revoked_at";
/**
 * Rows per INSERT: the rows travel as one JSON parameter (json_each), so a statement binds 3
 * parameters however many rows it carries — far from D1's 100 — and stays well under its
 * statement and value size limits (~250 bytes a row).
 */
export const DEVICES_PER_STATEMENT = 1000;

export async function findDeviceByTokenHash(db: D1Database, hash: string): Promise<DeviceLookup | null> {
	return db
		.prepare(
			`SELECT d.tenant_id, t.name AS tenant_name, t.route_limits, d.device_id, d.signing_secret, d.revoked_at, d.kind, d.timezone
			 FROM devices d JOIN tenants t ON t.id = d.tenant_id WHERE d.token_hash = ?`,
		)
		.bind(hash)
		.first<DeviceLookup>();
}

export async function findDevice(db: D1Database, tenantId: string, deviceId: string): Promise<DeviceRow | null> {
	return db
		.prepare(`SELECT ${COLUMNS} FROM devices WHERE tenant_id = ? AND device_id = ?`)
		.bind(tenantId, deviceId)
		.first<DeviceRow>();
}

export async function listDevices(
	db: D1Database,
	tenantId: string,
	limit: number,
	after: string | null,
): Promise<DeviceRow[]> {
	const { results } = await db
		.prepare(`SELECT ${COLUMNS} FROM devices WHERE tenant_id = ? AND device_id > ? ORDER BY device_id LIMIT ?`)
		.bind(tenantId, after ?? "", limit)
		.all<DeviceRow>();
	return results;
}

/** The ids among `deviceIds` the tenant already has. */
export async function existingDeviceIds(db: D1Database, tenantId: string, deviceIds: string[]): Promise<string[]> {
	const { results } = await db
		.prepare("SELECT device_id FROM devices WHERE tenant_id = ? AND device_id IN (SELECT value FROM json_each(?))")
		.bind(tenantId, JSON.stringify(deviceIds))
		.all<{ device_id: string }>();
	return results.map((r) => r.device_id);
}

/** Inserts all devices in one transaction (one D1 batch): all are registered or none. */
export async function insertDevices(
	db: D1Database,
	tenantId: string,
	devices: DeviceInsert[],
	now: number,
): Promise<void> {
	const statements: D1PreparedStatement[] = [];
	for (let i = 0; i < devices.length; i += DEVICES_PER_STATEMENT) {
		const chunk = devices.slice(i, i + DEVICES_PER_STATEMENT);
		statements.push(
			db
				.prepare(
					`INSERT INTO devices (tenant_id, device_id, kind, timezone, city, lat, lng, token_hash, token_prefix, signing_secret, created_at)
					 SELECT ?1, value ->> '$.device_id', value ->> '$.kind', value ->> '$.timezone', value ->> '$.city', value ->> '$.lat',
					   value ->> '$.lng', value ->> '$.token_hash', value ->> '$.token_prefix', value ->> '$.signing_secret', ?2
					 FROM json_each(?3)`,
				)
				.bind(tenantId, now, JSON.stringify(chunk)),
		);
	}
	await db.batch(statements);
}

/** Replaces a device's credentials; null when the tenant has no such device or it is revoked. */
export async function rotateDeviceCredentials(
	db: D1Database,
	tenantId: string,
	deviceId: string,
	credentials: { hash: string; prefix: string; signingSecret: string | null },
	now: number,
): Promise<DeviceRow | null> {
	return db
		.prepare(
			`UPDATE devices SET token_hash = ?, token_prefix = ?, signing_secret = CASE WHEN signing_secret IS NULL THEN NULL ELSE ? END, rotated_at = ?
			 WHERE tenant_id = ? AND device_id = ? AND revoked_at IS NULL RETURNING ${COLUMNS}`,
		)
		.bind(credentials.hash, credentials.prefix, credentials.signingSecret, now, tenantId, deviceId)
		.first<DeviceRow>();
}

export async function revokeDevice(
	db: D1Database,
	tenantId: string,
	deviceId: string,
	now: number,
): Promise<DeviceRow | null> {
	return db
		.prepare(
			`UPDATE devices SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant_id = ? AND device_id = ? RETURNING ${COLUMNS}`,
		)
		.bind(now, tenantId, deviceId)
		.first<DeviceRow>();
}

/** Active vending machines of a tenant per time zone (for the capacity check). */
export async function countVendingByTimezone(
	db: D1Database,
	tenantId: string,
): Promise<{ timezone: string; devices: number }[]> {
	const { results } = await db
		.prepare(
			"SELECT timezone, COUNT(*) AS devices FROM devices WHERE tenant_id = ? AND kind = 'vending' AND revoked_at IS NULL GROUP BY timezone",
		)
		.bind(tenantId)
		.all<{ timezone: string; devices: number }>();
	return results;
}
