import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DeviceClient } from "../../../client/device-client";
import { memoryStorage } from "../../../client/outbox";
import { MAX_MESSAGE_BYTES } from "../../../src/platform/queue-limits";
import { BASE, call, createTenant, json } from "../helpers";
import { report } from "./telemetry-helpers";

const workerFetch = ((input: RequestInfo | URL, init?: RequestInit) =>
	exports.default.fetch(new Request(input, init))) as typeof fetch;

/**
 * A report every field of which is valid (500 slots, 64-character SKUs) but which is ~190 KB as a
 * queue message: a control character is one character to the schema and six bytes in JSON.
 */
function oversizedReport(): Record<string, unknown> {
	return report({
		inventory: Array.from({ length: 500 }, (_, i) => ({
			slot: `S${i}`,
			sku: "\u0001".repeat(64),
			count: 1,
			capacity: 1,
		})),
	});
}

describe("oversized telemetry", () => {
	it("answers 413 payload_too_large naming the size and the limit, counts it rejected, enqueues nothing", async () => {
		const { apiKey } = await createTenant();
		const res = await call("POST", "/api/v1/machines/vm-big/reports", { token: apiKey, body: oversizedReport() });
		expect(res.status).toBe(413);
		const body = await json(res);
		expect(body).toMatchObject({
			error: { code: "payload_too_large", details: { max_message_bytes: MAX_MESSAGE_BYTES } },
		});
		const details = (body.error as { details: { message_bytes: number } }).details;
		expect(details.message_bytes).toBeGreaterThan(MAX_MESSAGE_BYTES);
		const message = (body.error as { message: string }).message;
		expect(message).toContain(String(details.message_bytes));
		expect(message).toContain(String(MAX_MESSAGE_BYTES));
		expect(await json(await call("GET", "/api/v1/stats", { token: apiKey }))).toMatchObject({
			received: 1,
			enqueued: 0,
			rejected: 1,
		});
	});

	it("is dropped from the device client's outbox with a logged reason, and the next report goes out", async () => {
		const { apiKey } = await createTenant();
		const res = await call("POST", "/api/v1/devices", {
			token: apiKey,
			body: { device_id: "vm-big", kind: "vending", timezone: "UTC", city: "x" },
		});
		const { token } = await res.json<{ token: string }>();
		const logged: Record<string, unknown>[] = [];
		const storage = memoryStorage();
		const client = new DeviceClient({
			baseUrl: BASE,
			deviceId: "vm-big",
			token,
			fetch: workerFetch,
			storage,
			log: (_message, fields) => logged.push(fields),
		});
		await client.enqueue("POST", "/api/v1/machines/vm-big/reports", oversizedReport());
		await client.enqueue("POST", "/api/v1/machines/vm-big/reports", report({ report_date: "2026-01-16" }));
		expect(await client.flush()).toMatchObject({ sent: 1, rejected: 1, retries: 0, pending: 0 });
		expect(storage.items).toEqual([]);
		expect(logged).toHaveLength(1);
		expect(logged[0]).toMatchObject({ status: 413, reason: expect.stringContaining("413 payload_too_large") });
	});
});
