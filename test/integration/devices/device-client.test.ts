import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DeviceClient } from "../../../client/device-client";
import { memoryStorage } from "../../../client/outbox";
import { BASE, call, createTenant } from "../helpers";

const workerFetch = ((input: RequestInfo | URL, init?: RequestInit) =>
	exports.default.fetch(new Request(input, init))) as typeof fetch;

describe("device client against the platform", () => {
	it("sends signed requests the platform accepts and learns its next slot", async () => {
		const { apiKey } = await createTenant();
		const res = await call("POST", "/api/v1/devices", {
			token: apiKey,
			body: { device_id: "vm-c", kind: "vending", timezone: "Asia/Tokyo", city: "tokyo", signed: true },
		});
		const issued = await res.json<{ token: string; signing_secret: string }>();
		const storage = memoryStorage();
		const client = new DeviceClient({
			baseUrl: BASE,
			deviceId: "vm-c",
			token: issued.token,
			signingSecret: issued.signing_secret,
			fetch: workerFetch,
			storage,
		});
		await client.enqueue("POST", "/api/v1/devices/vm-c/heartbeat", { firmware: "3.1" });
		await client.enqueue("POST", "/api/v1/devices/vm-c/heartbeat", { uptime_s: 12 });
		expect(await client.flush()).toMatchObject({ sent: 2, rejected: 0, pending: 0, retries: 0 });
		expect(storage.items).toEqual([]);
		expect(client.nextReportAt).toBeGreaterThan(Date.now());
		const schedule = await client.fetchSchedule();
		expect(schedule).toBe(client.nextReportAt);
	});

	it("puts a request refused for good aside (403 when acting as another device)", async () => {
		const { apiKey } = await createTenant();
		const res = await call("POST", "/api/v1/devices", {
			token: apiKey,
			body: { device_id: "vm-d", kind: "vending", timezone: "UTC", city: "x" },
		});
		const { token } = await res.json<{ token: string }>();
		const rejected: number[] = [];
		const client = new DeviceClient({
			baseUrl: BASE,
			deviceId: "vm-d",
			token,
			fetch: workerFetch,
			storage: memoryStorage(),
			onRejected: (i) => rejected.push(i.status),
		});
		await client.enqueue("POST", "/api/v1/devices/vm-other/heartbeat", {});
		expect(await client.flush()).toMatchObject({ sent: 0, rejected: 1, pending: 0 });
		expect(rejected).toEqual([403]);
	});
});
