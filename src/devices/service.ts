import type { DeviceInsert, DeviceRow } from "./db";
import { existingDeviceIds, insertDevices, revokeDevice, rotateDeviceCredentials } from "./db";
import type { NewDevice } from "./domain";
import { deviceTokenPrefix, generateDeviceToken, generateSigningSecret } from "./domain";
import { forgetDevice } from "./middleware";
import { forgetFleet } from "./slots/service";
import { hashSecret } from "../gateway/tenants/domain";
import { AppError } from "../platform/errors";

/** Credentials as issued: shown once, stored only as a hash (the signing secret as it is). */
export type Issued = { device_id: string; token: string; signing_secret?: string };

/** Issues credentials and stores the devices, all or none; 409 naming the ids the tenant already has. */
export async function registerDevices(db: D1Database, tenantId: string, devices: NewDevice[]): Promise<Issued[]> {
	const taken = await existingDeviceIds(
		db,
		tenantId,
		devices.map((d) => d.device_id),
	);
	if (taken.length > 0) throw conflict(taken);
	const issued: Issued[] = [];
	const rows: DeviceInsert[] = [];
	for (const d of devices) {
		const token = generateDeviceToken();
		const signingSecret = d.signed ? generateSigningSecret() : null;
		issued.push({ device_id: d.device_id, token, ...(signingSecret ? { signing_secret: signingSecret } : {}) });
		rows.push({
			device_id: d.device_id,
			kind: d.kind,
			timezone: d.timezone,
			city: d.city,
			lat: d.lat ?? null,
			lng: d.lng ?? null,
			token_hash: await hashSecret(token),
			token_prefix: deviceTokenPrefix(token),
			signing_secret: signingSecret,
		});
	}
	try {
		await insertDevices(db, tenantId, rows, Date.now());
		forgetFleet(tenantId);
	} catch (err) {
		// A concurrent registration of the same id won the race: the batch rolled back whole.
		if (String(err).includes("UNIQUE")) throw conflict([]);
		throw err;
	}
	return issued;
}

/**
 * New credentials for an active device (a signing secret only if it signs); null when the tenant
 * has no such device or it is revoked. The old token stops working at once in this isolate.
 */
export async function rotateCredentials(db: D1Database, tenantId: string, deviceId: string): Promise<Issued | null> {
	const token = generateDeviceToken();
	const signingSecret = generateSigningSecret();
	const row = await rotateDeviceCredentials(
		db,
		tenantId,
		deviceId,
		{ hash: await hashSecret(token), prefix: deviceTokenPrefix(token), signingSecret },
		Date.now(),
	);
	if (!row) return null;
	forgetDevice(tenantId, deviceId);
	forgetFleet(tenantId);
	return { device_id: deviceId, token, ...(row.signed ? { signing_secret: signingSecret } : {}) };
}

/** Revokes a device (idempotent); null when the tenant has no such device. */
export async function revoke(db: D1Database, tenantId: string, deviceId: string): Promise<DeviceRow | null> {
	const row = await revokeDevice(db, tenantId, deviceId, Date.now());
	if (!row) return null;
	forgetDevice(tenantId, deviceId);
	forgetFleet(tenantId);
	return row;
}

function conflict(ids: string[]): AppError {
	const named = ids.length > 0 ? `: ${ids.slice(0, 20).join(", ")}${ids.length > 20 ? ", …" : ""}` : "";
	return new AppError(409, "device_exists", `Devices already registered${named}. Nothing was registered.`, {
		device_ids: ids.slice(0, 1000),
	});
}
