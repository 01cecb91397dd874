import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/platform/crypto";
import { signParts } from "../../../src/devices/request-signing";
import { call, createTenant, json, setLimits } from "../helpers";

type Issued = { device_id: string; token: string; signing_secret?: string };

async function register(apiKey: string, device: Record<string, unknown>): Promise<Issued> {
	const res = await call("POST", "/api/v1/devices", {
		token: apiKey,
		body: { kind: "vending", timezone: "Europe/Berlin", city: "berlin", ...device },
	});
	if (res.status !== 201) throw new Error(`register failed: ${res.status} ${await res.text()}`);
	return await res.json<Issued>();
}

async function signedCall(
	method: string,
	path: string,
	device: Issued,
	body: unknown,
	opts: { nonce?: string; timestamp?: number; tamper?: boolean } = {},
) {
	const raw = JSON.stringify(body);
	const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
	const nonce = opts.nonce ?? crypto.randomUUID();
	const signature = await signParts(device.signing_secret ?? "", {
		method,
		pathWithQuery: path,
		timestamp,
		nonce,
		bodySha256: await sha256Hex(raw),
	});
	return call(method, path, {
		token: device.token,
		body: opts.tamper ? JSON.stringify({ ...(body as object), uptime_s: 999 }) : raw,
		headers: {
			"X-Floodgate-Timestamp": String(timestamp),
			"X-Floodgate-Nonce": nonce,
			"X-Floodgate-Signature": signature,
		},
	});
}

describe("device registry", () => {
	it("registers a device with a token shown once and stored only as a hash", async () => {
		const { apiKey, tenantId } = await createTenant();
		const issued = await register(apiKey, { device_id: "vm-1", lat: 52.5, lng: 13.4 });
		expect(issued.token).toMatch(/^fg_dev_[0-9a-f]{40}$/);
		expect(issued.signing_secret).toBeUndefined();
		const row = await env.DB.prepare("SELECT token_hash FROM devices WHERE tenant_id = ? AND device_id = 'vm-1'")
			.bind(tenantId)
			.first<{ token_hash: string }>();
		expect(row?.token_hash).toBe(await sha256Hex(issued.token));
		const shown = await json(await call("GET", "/api/v1/devices/vm-1", { token: apiKey }));
		expect(shown).toMatchObject({
			device_id: "vm-1",
			kind: "vending",
			timezone: "Europe/Berlin",
			lat: 52.5,
			signed: false,
			revoked_at: null,
		});
		expect(JSON.stringify(shown)).not.toContain(issued.token);
	});

	it("rejects bad input, an unknown time zone and a duplicate id", async () => {
		const { apiKey } = await createTenant();
		await register(apiKey, { device_id: "vm-1" });
		const dup = await call("POST", "/api/v1/devices", {
			token: apiKey,
			body: { device_id: "vm-1", kind: "vending", timezone: "UTC", city: "x" },
		});
		expect(dup.status).toBe(409);
		expect(await json(dup)).toMatchObject({ error: { code: "device_exists", details: { device_ids: ["vm-1"] } } });
		const badZone = await call("POST", "/api/v1/devices", {
			token: apiKey,
			body: { device_id: "vm-2", kind: "vending", timezone: "Mars/Olympus", city: "x" },
		});
		expect(badZone.status).toBe(400);
		expect(JSON.stringify(await json(badZone))).toContain("timezone");
		for (const body of [
			{ device_id: "bad id", kind: "vending", timezone: "UTC", city: "x" },
			{ device_id: "vm-3", kind: "drone", timezone: "UTC", city: "x" },
			{ device_id: "vm-4", kind: "truck", timezone: "UTC", city: "x", lat: 91 },
		]) {
			expect((await call("POST", "/api/v1/devices", { token: apiKey, body })).status).toBe(400);
		}
	});

	it("registers 10,000 devices in one bulk request, all or none", async () => {
		const { apiKey, tenantId } = await createTenant();
		const devices = Array.from({ length: 10_000 }, (_, i) => ({
			device_id: `bulk-${i}`,
			kind: "vending",
			timezone: i % 2 ? "America/New_York" : "Asia/Tokyo",
			city: `city-${i % 7}`,
			lat: 40.712776,
			lng: -74.005974,
		}));
		// Realistic records make this body larger than MAX_BODY_BYTES (1 MiB): bulk has its own bound.
		expect(JSON.stringify({ devices }).length).toBeGreaterThan(1_048_576);
		const res = await call("POST", "/api/v1/devices/bulk", { token: apiKey, body: { devices } });
		expect(res.status).toBe(201);
		const body = await res.json<{ devices: Issued[]; capacity: { devices: number; sufficient: boolean } }>();
		expect(body.devices).toHaveLength(10_000);
		expect(new Set(body.devices.map((d) => d.token)).size).toBe(10_000);
		expect(body.capacity).toMatchObject({ devices: 10_000, sufficient: true });
		const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM devices WHERE tenant_id = ?")
			.bind(tenantId)
			.first<{ n: number }>();
		expect(count?.n).toBe(10_000);
		const last = body.devices[9_999];
		expect((await call("GET", "/api/v1/devices/bulk-9999/schedule", { token: last?.token })).status).toBe(200);

		// One id already taken: the whole request is refused and nothing new is stored.
		const again = await call("POST", "/api/v1/devices/bulk", {
			token: apiKey,
			body: {
				devices: [
					{ device_id: "new-1", kind: "truck", timezone: "UTC", city: "x" },
					{ device_id: "bulk-5", kind: "truck", timezone: "UTC", city: "x" },
				],
			},
		});
		expect(again.status).toBe(409);
		expect((await call("GET", "/api/v1/devices/new-1", { token: apiKey })).status).toBe(404);
		const dupInBody = await call("POST", "/api/v1/devices/bulk", {
			token: apiKey,
			body: {
				devices: [
					{ device_id: "z", kind: "truck", timezone: "UTC", city: "x" },
					{ device_id: "z", kind: "truck", timezone: "UTC", city: "x" },
				],
			},
		});
		expect(dupInBody.status).toBe(400);
	});

	it("pages through devices with a cursor", async () => {
		const { apiKey } = await createTenant();
		for (const id of ["a", "b", "c"]) await register(apiKey, { device_id: id });
		const first = (await json(await call("GET", "/api/v1/devices?limit=2", { token: apiKey }))) as {
			devices: { device_id: string }[];
			next_cursor: string;
		};
		expect(first.devices.map((d) => d.device_id)).toEqual(["a", "b"]);
		const second = (await json(
			await call("GET", `/api/v1/devices?limit=2&cursor=${first.next_cursor}`, { token: apiKey }),
		)) as { devices: { device_id: string }[]; next_cursor: null };
		expect(second.devices.map((d) => d.device_id)).toEqual(["c"]);
		expect(second.next_cursor).toBeNull();
	});
});

describe("device credentials", () => {
	it("lets a device act only as itself, and a tenant key act for any device", async () => {
		const { apiKey } = await createTenant();
		const one = await register(apiKey, { device_id: "vm-1" });
		await register(apiKey, { device_id: "vm-2" });
		const own = await call("GET", "/api/v1/devices/vm-1/schedule", { token: one.token });
		expect(own.status).toBe(200);
		expect(await json(own)).toMatchObject({
			device_id: "vm-1",
			timezone: "Europe/Berlin",
			window: { start: "00:00", duration_minutes: 120 },
			next_report_at: expect.stringMatching(/Z$/),
		});
		const other = await call("POST", "/api/v1/devices/vm-2/heartbeat", { token: one.token, body: {} });
		expect(other.status).toBe(403);
		expect(await json(other)).toMatchObject({ error: { code: "forbidden" } });
		expect(
			(await call("POST", "/api/v1/devices/vm-2/heartbeat", { token: apiKey, body: { firmware: "1.2" } })).status,
		).toBe(200);
		// A device token is not a tenant credential.
		expect((await call("GET", "/api/v1/devices", { token: one.token })).status).toBe(401);
	});

	it("keeps devices of another tenant out of reach", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		await register(a.apiKey, { device_id: "vm-1" });
		expect((await call("GET", "/api/v1/devices/vm-1/schedule", { token: b.apiKey })).status).toBe(404);
		expect((await call("GET", "/api/v1/devices/vm-1", { token: b.apiKey })).status).toBe(404);
	});

	it("401s unknown and revoked tokens", async () => {
		const { apiKey } = await createTenant();
		const unknown = await call("GET", "/api/v1/devices/vm-1/schedule", { token: `fg_dev_${"0".repeat(40)}` });
		expect(unknown.status).toBe(401);
		expect(await json(unknown)).toMatchObject({
			error: { code: "unauthorized", message: expect.stringContaining("Unknown") },
		});
		expect((await call("GET", "/api/v1/devices/vm-1/schedule", { token: "garbage" })).status).toBe(401);
		const issued = await register(apiKey, { device_id: "vm-1" });
		expect((await call("POST", "/api/v1/devices/vm-1/revoke", { token: apiKey })).status).toBe(200);
		const revoked = await call("GET", "/api/v1/devices/vm-1/schedule", { token: issued.token });
		expect(revoked.status).toBe(401);
		expect(await json(revoked)).toMatchObject({ error: { message: expect.stringContaining("revoked") } });
		expect((await call("POST", "/api/v1/devices/vm-1/rotate", { token: apiKey })).status).toBe(404);
	});

	it("rotates a token: the old one stops working, the new one works", async () => {
		const { apiKey } = await createTenant();
		const issued = await register(apiKey, { device_id: "vm-1" });
		expect((await call("GET", "/api/v1/devices/vm-1/schedule", { token: issued.token })).status).toBe(200);
		const rotated = (await json(await call("POST", "/api/v1/devices/vm-1/rotate", { token: apiKey }))) as {
			token: string;
		};
		expect(rotated.token).not.toBe(issued.token);
		expect((await call("GET", "/api/v1/devices/vm-1/schedule", { token: issued.token })).status).toBe(401);
		expect((await call("GET", "/api/v1/devices/vm-1/schedule", { token: rotated.token })).status).toBe(200);
	});

	it("limits each device on its own, and not tenant-key callers, with a device rule", async () => {
		const { apiKey, tenantId } = await createTenant();
		const one = await register(apiKey, { device_id: "vm-1" });
		const two = await register(apiKey, { device_id: "vm-2" });
		await setLimits(tenantId, [
			{ name: "per-device", scope: "device", algorithm: "fixed_window", limit: 2, window_seconds: 60 },
		]);
		const statuses = [];
		for (let i = 0; i < 3; i++)
			statuses.push((await call("GET", "/api/v1/devices/vm-1/schedule", { token: one.token })).status);
		expect(statuses).toEqual([200, 200, 429]);
		expect((await call("GET", "/api/v1/devices/vm-2/schedule", { token: two.token })).status).toBe(200);
		for (let i = 0; i < 4; i++)
			expect((await call("GET", "/api/v1/devices/vm-1/schedule", { token: apiKey })).status).toBe(200);
	});
});

describe("request signing", () => {
	const path = "/api/v1/devices/vm-s/heartbeat";

	it("requires a valid signature from a device that has a signing secret", async () => {
		const { apiKey } = await createTenant();
		const device = await register(apiKey, { device_id: "vm-s", signed: true });
		expect(device.signing_secret).toMatch(/^[0-9a-f]{64}$/);
		const unsigned = await call("POST", path, { token: device.token, body: {} });
		expect(unsigned.status).toBe(401);
		expect(await json(unsigned)).toMatchObject({ error: { code: "signature_required" } });
		expect((await signedCall("POST", path, device, { firmware: "2.0" })).status).toBe(200);
		const tampered = await signedCall("POST", path, device, { firmware: "2.0" }, { tamper: true });
		expect(tampered.status).toBe(401);
		expect(await json(tampered)).toMatchObject({ error: { code: "invalid_signature" } });
		const wrongKey = await signedCall("POST", path, { ...device, signing_secret: "f".repeat(64) }, {});
		expect(wrongKey.status).toBe(401);
	});

	it("rejects more than 5 minutes of clock skew either way", async () => {
		const { apiKey } = await createTenant();
		const device = await register(apiKey, { device_id: "vm-s", signed: true });
		const now = Math.floor(Date.now() / 1000);
		for (const timestamp of [now - 301, now + 301]) {
			const res = await signedCall("POST", path, device, {}, { timestamp });
			expect(res.status).toBe(401);
			expect(await json(res)).toMatchObject({
				error: { code: "clock_skew", details: { server_time: expect.any(Number) } },
			});
		}
		expect((await signedCall("POST", path, device, {}, { timestamp: now - 250 })).status).toBe(200);
	});

	it("rejects a reused nonce, also one first used before the secret was rotated", async () => {
		const { apiKey } = await createTenant();
		const device = await register(apiKey, { device_id: "vm-s", signed: true });
		expect((await signedCall("POST", path, device, {}, { nonce: "nonce-0001" })).status).toBe(200);
		const replay = await signedCall("POST", path, device, {}, { nonce: "nonce-0001" });
		expect(replay.status).toBe(401);
		expect(await json(replay)).toMatchObject({ error: { code: "nonce_reused" } });
		expect((await signedCall("POST", path, device, {}, { nonce: "nonce-0002" })).status).toBe(200);
		const rotated = (await json(await call("POST", "/api/v1/devices/vm-s/rotate", { token: apiKey }))) as Issued;
		expect(rotated.signing_secret).toMatch(/^[0-9a-f]{64}$/);
		expect(rotated.signing_secret).not.toBe(device.signing_secret);
		expect((await signedCall("POST", path, rotated, {}, { nonce: "nonce-0001" })).status).toBe(401);
		expect((await signedCall("POST", path, rotated, {}, { nonce: "nonce-0003" })).status).toBe(200);
	});
});

describe("report windows and capacity", () => {
	it("stores a tenant's window, uses it for schedules and warns when it is too short", async () => {
		const { apiKey } = await createTenant();
		const devices = Array.from({ length: 3000 }, (_, i) => ({
			device_id: `m-${i}`,
			kind: "vending",
			timezone: "Europe/Berlin",
			city: "berlin",
		}));
		expect((await call("POST", "/api/v1/devices/bulk", { token: apiKey, body: { devices } })).status).toBe(201);
		// 3,000 machines at 50 reports/s need 60 s: a 1-minute window is exactly enough.
		const fits = await json(
			await call("PUT", "/api/v1/devices/slots/window", {
				token: apiKey,
				body: { start: "01:30", duration_minutes: 1 },
			}),
		);
		expect(fits).toMatchObject({
			start: "01:30",
			duration_minutes: 1,
			capacity: { devices: 3000, sufficient: true, warning: null },
		});
		await register(apiKey, { device_id: "one-more" });
		const over = await json(await call("GET", "/api/v1/devices/slots/capacity", { token: apiKey }));
		expect(over).toMatchObject({
			sufficient: false,
			required_window_minutes: 2,
			warning: expect.stringContaining("at least 2 minutes"),
		});
		const schedule = await json(await call("GET", "/api/v1/devices/m-1/schedule", { token: apiKey }));
		expect(schedule).toMatchObject({ window: { start: "01:30", duration_minutes: 1 } });
		expect(Number(schedule.slot_offset_seconds)).toBeLessThan(60);
		expect(
			(
				await call("PUT", "/api/v1/devices/slots/window", {
					token: apiKey,
					body: { start: "24:00", duration_minutes: 10 },
				})
			).status,
		).toBe(400);
	});
});
