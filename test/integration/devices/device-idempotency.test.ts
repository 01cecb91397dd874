import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/platform/crypto";
import { call, createTenant, json } from "../helpers";

type Issued = { device_id: string; token: string; signing_secret?: string };

const machine = (deviceId: string, extra: Record<string, unknown> = {}) => ({
	device_id: deviceId,
	kind: "vending",
	timezone: "Europe/Berlin",
	city: "berlin",
	...extra,
});

function post(path: string, apiKey: string, body: unknown, key?: string): Promise<Response> {
	return call("POST", `/api/v1/devices${path}`, {
		token: apiKey,
		body,
		...(key === undefined ? {} : { headers: { "Idempotency-Key": key } }),
	});
}

async function deviceCount(tenantId: string): Promise<number | null> {
	return env.DB.prepare("SELECT COUNT(*) AS n FROM devices WHERE tenant_id = ?").bind(tenantId).first<number>("n");
}

async function tokenHashOf(tenantId: string, deviceId: string): Promise<string | undefined> {
	const row = await env.DB.prepare("SELECT token_hash FROM devices WHERE tenant_id = ? AND device_id = ?")
		.bind(tenantId, deviceId)
		.first<{ token_hash: string }>();
	return row?.token_hash;
}

describe("Idempotency-Key on the device registry", () => {
	it("replays a retried bulk registration with the first 201 and its tokens, and registers nothing twice", async () => {
		const { tenantId, apiKey } = await createTenant();
		const body = { devices: [machine("bulk-a"), machine("bulk-b", { signed: true }), machine("bulk-c")] };
		const first = await post("/bulk", apiKey, body, "bulk-1");
		expect(first.status).toBe(201);
		const firstText = await first.text();

		const retry = await post("/bulk", apiKey, body, "bulk-1");
		expect(retry.status).toBe(201);
		expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await retry.text()).toBe(firstText);

		expect(await deviceCount(tenantId)).toBe(3);
		const { devices } = JSON.parse(firstText) as { devices: Issued[] };
		for (const issued of devices) {
			// The tokens the replay hands back are the ones stored: the retry lost nothing.
			expect(await tokenHashOf(tenantId, issued.device_id)).toBe(await sha256Hex(issued.token));
		}
		expect(devices[1]?.signing_secret).toMatch(/^[0-9a-f]{64}$/);
		// Without a key, the same body is a new registration of existing ids: 409 as before.
		expect((await post("/bulk", apiKey, body)).status).toBe(409);
	});

	it("replays a retried single registration with the same token", async () => {
		const { tenantId, apiKey } = await createTenant();
		const first = await post("", apiKey, machine("vm-once"), "reg-1");
		expect(first.status).toBe(201);
		const issued = await json(first);
		const retry = await post("", apiKey, machine("vm-once"), "reg-1");
		expect(retry.status).toBe(201);
		expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await json(retry)).toEqual(issued);
		expect(await deviceCount(tenantId)).toBe(1);
		expect(await tokenHashOf(tenantId, "vm-once")).toBe(await sha256Hex(String(issued.token)));
	});

	it("answers 422 problem+json for the same key with another body or path, and registers nothing", async () => {
		const { tenantId, apiKey } = await createTenant();
		expect((await post("/bulk", apiKey, { devices: [machine("k-a")] }, "reuse-1")).status).toBe(201);

		const otherBody = await post("/bulk", apiKey, { devices: [machine("k-b")] }, "reuse-1");
		expect(otherBody.status).toBe(422);
		expect(otherBody.headers.get("Content-Type")).toContain("application/problem+json");
		expect(await json(otherBody)).toMatchObject({
			error: { code: "idempotency_key_reused", details: { mismatch: "body" } },
		});
		const otherPath = await post("", apiKey, machine("k-c"), "reuse-1");
		expect(otherPath.status).toBe(422);
		expect(await json(otherPath)).toMatchObject({
			error: { code: "idempotency_key_reused", details: { mismatch: "path" } },
		});
		expect(await deviceCount(tenantId)).toBe(1);
	});

	it("lets concurrent retries of one bulk registration run it once (the others 409 in use or replay)", async () => {
		const { tenantId, apiKey } = await createTenant();
		const body = { devices: Array.from({ length: 50 }, (_, i) => machine(`race-${i}`)) };
		const answers = await Promise.all(Array.from({ length: 4 }, () => post("/bulk", apiKey, body, "race-1")));
		const created = answers.filter((r) => r.status === 201);
		expect(created.length).toBeGreaterThanOrEqual(1);
		const texts = new Set(await Promise.all(created.map((r) => r.text())));
		expect(texts.size).toBe(1);
		for (const res of answers.filter((r) => r.status !== 201)) {
			expect(res.status).toBe(409);
			expect(await json(res)).toMatchObject({ error: { code: "idempotency_key_in_use" } });
		}
		expect(await deviceCount(tenantId)).toBe(50);
	});

	it("replays a retried rotation with the same new token, which works", async () => {
		const { tenantId, apiKey } = await createTenant();
		expect((await post("", apiKey, machine("vm-rot"))).status).toBe(201);
		const first = await json(await post("/vm-rot/rotate", apiKey, undefined, "rot-1"));
		const retry = await post("/vm-rot/rotate", apiKey, undefined, "rot-1");
		expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await json(retry)).toEqual(first);
		expect(await tokenHashOf(tenantId, "vm-rot")).toBe(await sha256Hex(String(first.token)));
	});
});

describe("tenant isolation on every device route that takes an id", () => {
	it("keeps another tenant's key from reading, rotating, revoking or scheduling a device", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const issued = await json(await post("", a.apiKey, machine("vm-1")));
		const hashBefore = await tokenHashOf(a.tenantId, "vm-1");

		expect((await call("GET", "/api/v1/devices/vm-1", { token: b.apiKey })).status).toBe(404);
		expect((await post("/vm-1/rotate", b.apiKey, undefined)).status).toBe(404);
		expect((await post("/vm-1/revoke", b.apiKey, undefined)).status).toBe(404);
		expect((await call("GET", "/api/v1/devices/vm-1/schedule", { token: b.apiKey })).status).toBe(404);
		// A heartbeat for a device the tenant does not have tells nothing about another tenant's.
		const beat = await post("/vm-1/heartbeat", b.apiKey, {});
		expect(beat.status).toBe(200);
		expect(await json(beat)).toMatchObject({ device_id: "vm-1", next_report_at: null });
		const listed = await json(await call("GET", "/api/v1/devices", { token: b.apiKey }));
		expect(listed.devices).toEqual([]);

		// Tenant a's device is untouched: same token, not revoked, still scheduled.
		expect(await tokenHashOf(a.tenantId, "vm-1")).toBe(hashBefore);
		const own = await json(await call("GET", "/api/v1/devices/vm-1", { token: a.apiKey }));
		expect(own.revoked_at).toBeNull();
		const schedule = await call("GET", "/api/v1/devices/vm-1/schedule", { token: String(issued.token) });
		expect(schedule.status).toBe(200);
	});

	it("scopes a device id to its tenant: the same id elsewhere is another device", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const aDevice = await json(await post("", a.apiKey, machine("vm-same")));
		const bDevice = await json(await post("", b.apiKey, machine("vm-same")));
		expect((await post("/vm-same/revoke", b.apiKey, undefined)).status).toBe(200);
		// b's token is revoked; a's device of the same id still works.
		expect((await post("/vm-same/heartbeat", String(bDevice.token), {})).status).toBe(401);
		const beat = await post("/vm-same/heartbeat", String(aDevice.token), {});
		expect(beat.status).toBe(200);
		expect((await json(beat)).next_report_at).toEqual(expect.any(String));
	});

	it("keeps a device token off the registry, also for its own id", async () => {
		const a = await createTenant("a");
		const issued = await json(await post("", a.apiKey, machine("vm-self")));
		const token = String(issued.token);
		expect((await call("GET", "/api/v1/devices/vm-self", { token })).status).toBe(401);
		expect((await post("/vm-self/rotate", token, undefined)).status).toBe(401);
		expect((await post("/vm-self/revoke", token, undefined)).status).toBe(401);
		expect((await post("/bulk", token, { devices: [machine("vm-x")] })).status).toBe(401);
	});
});
