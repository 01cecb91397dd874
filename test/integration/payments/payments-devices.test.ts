import { describe, expect, it } from "vitest";
import { call, createTenant, json } from "../helpers";
import { pay, paymentBody, uniqueKey } from "./payment-helpers";

/** Registers a vending machine and returns its device token. */
async function registerMachine(apiKey: string, deviceId: string): Promise<string> {
	const res = await call("POST", "/api/v1/devices", {
		token: apiKey,
		body: { device_id: deviceId, kind: "vending", timezone: "Europe/Berlin", city: "berlin" },
	});
	if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
	return String((await json(res)).token);
}

async function fleet() {
	const { apiKey } = await createTenant();
	return { apiKey, a: await registerMachine(apiKey, "vm-a"), b: await registerMachine(apiKey, "vm-b") };
}

describe("a device token reads only its own payments", () => {
	it("lists its own machine's payments and gets 403 forbidden for another machine's list", async () => {
		const { apiKey, a, b } = await fleet();
		expect((await pay(a, uniqueKey("own"), paymentBody("tok_visa", "vm-a"))).status).toBe(201);
		const own = await call("GET", "/api/v1/payments?machine_id=vm-a", { token: a });
		expect(own.status).toBe(200);
		expect((await json(own)).payments).toHaveLength(1);

		const other = await call("GET", "/api/v1/payments?machine_id=vm-a", { token: b });
		expect(other.status).toBe(403);
		expect(await json(other)).toMatchObject({ error: { code: "forbidden" } });
		// The tenant key still reads every machine's payments (gateway mode).
		expect((await call("GET", "/api/v1/payments?machine_id=vm-a", { token: apiKey })).status).toBe(200);
	});

	it("reads its own payment by id and gets 403 forbidden for another machine's", async () => {
		const { apiKey, a, b } = await fleet();
		const paid = await json(await pay(a, uniqueKey("by-id"), paymentBody("tok_visa", "vm-a")));
		const path = `/api/v1/payments/${String(paid.payment_id)}`;
		expect((await call("GET", path, { token: a })).status).toBe(200);
		const other = await call("GET", path, { token: b });
		expect(other.status).toBe(403);
		expect(await json(other)).toMatchObject({ error: { code: "forbidden" } });
		expect((await call("GET", path, { token: apiKey })).status).toBe(200);
	});
});

describe("Idempotency-Key replays keep a device to itself", () => {
	it("does not replay another device's stored payment: 403 forbidden, nothing leaked", async () => {
		const { a, b } = await fleet();
		const key = uniqueKey("shared");
		const first = await pay(a, key, paymentBody("tok_visa", "vm-a"));
		expect(first.status).toBe(201);
		expect((await pay(a, key, paymentBody("tok_visa", "vm-a"))).headers.get("Idempotent-Replayed")).toBe("true");

		const stolen = await pay(b, key, paymentBody("tok_visa", "vm-a"));
		expect(stolen.status).toBe(403);
		expect(stolen.headers.get("Idempotent-Replayed")).toBeNull();
		const body = await json(stolen);
		expect(body).toMatchObject({ error: { code: "forbidden" } });
		expect(JSON.stringify(body)).not.toContain("pay_");
	});

	it("does not name another machine's payment when a device reuses its key for itself", async () => {
		const { a, b } = await fleet();
		const key = uniqueKey("reuse");
		expect((await pay(a, key, paymentBody("tok_visa", "vm-a"))).status).toBe(201);
		const reuse = await pay(b, key, paymentBody("tok_visa", "vm-b"));
		expect(reuse.status).toBe(422);
		expect(JSON.stringify(await json(reuse))).not.toContain("pay_");
	});

	it("still answers a device's own retry with its payment", async () => {
		const { a } = await fleet();
		const key = uniqueKey("retry");
		const first = await json(await pay(a, key, paymentBody("tok_visa", "vm-a")));
		const retry = await pay(a, key, paymentBody("tok_visa", "vm-a"));
		expect(retry.status).toBe(201);
		expect((await json(retry)).payment_id).toBe(first.payment_id);
	});

	it("does not replay another device's stored report answer", async () => {
		const { a, b } = await fleet();
		const report = {
			report_date: new Date().toISOString().slice(0, 10),
			inventory: [],
			cash_cents: 0,
			temperature_c: 4,
			error_codes: [],
			firmware: "1.0.0",
		};
		const key = uniqueKey("report");
		const first = await call("POST", "/api/v1/machines/vm-a/reports", {
			token: a,
			body: report,
			headers: { "Idempotency-Key": key },
		});
		expect(first.status, await first.clone().text()).toBe(202);
		const stolen = await call("POST", "/api/v1/machines/vm-a/reports", {
			token: b,
			body: report,
			headers: { "Idempotency-Key": key },
		});
		expect(stolen.status).toBe(403);
		expect(stolen.headers.get("Idempotent-Replayed")).toBeNull();
	});
});
