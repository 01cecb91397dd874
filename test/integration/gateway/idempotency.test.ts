import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { canonicalBody } from "../../../src/gateway/idempotency/domain";
import { sha256Hex } from "../../../src/platform/crypto";
import { currentHome, homeShardName } from "../../../src/gateway/idempotency/store";
import { call, createTenant, json, setLimits, sleep } from "../helpers";
import { createProbeApp } from "./idempotency-app";
import { pay, paymentBody } from "../payments/payment-helpers";

function echo(
	apiKey: string,
	key: string | null,
	body: unknown,
	headers: Record<string, string> = {},
): Promise<Response> {
	return call("POST", "/api/v1/echo", {
		token: apiKey,
		body,
		headers: key === null ? headers : { ...headers, "Idempotency-Key": key },
	});
}

describe("idempotency keys", () => {
	it("1. rejects a required key that is missing, empty or longer than 255 characters with 400 problem+json", async () => {
		const { apiKey } = await createTenant();
		for (const key of [null, "", "k".repeat(256), "has space"]) {
			const res = await pay(apiKey, key, paymentBody());
			expect(res.status, `key ${String(key).slice(0, 10)}`).toBe(400);
			expect(res.headers.get("Content-Type")).toContain("application/problem+json");
			const body = await json(res);
			expect((body.error as { code: string }).code).toMatch(/^idempotency_key_(missing|invalid)$/);
			expect(body).toHaveProperty("request_id");
		}
		expect((await pay(apiKey, "k".repeat(255), paymentBody())).status).toBe(201);
	});

	it("2+3. runs the first request once and replays its status and body for a repeat, with Idempotent-Replayed", async () => {
		const { apiKey } = await createTenant();
		const { probe, send } = createProbeApp({});
		const first = await send("POST", apiKey, "k-1", { n: 1, m: [1, 2] });
		expect(first.status).toBe(201);
		expect(first.headers.get("Idempotent-Replayed")).toBeNull();
		const firstBody = await first.text();
		// Same request, other key order and whitespace: the canonical fingerprint matches.
		const again = await send("POST", apiKey, "k-1", JSON.parse('{ "m": [1,2],   "n": 1 }'));
		expect(again.status).toBe(201);
		expect(again.headers.get("Idempotent-Replayed")).toBe("true");
		expect(again.headers.get("Content-Type")).toContain("application/json");
		expect(await again.text()).toBe(firstBody);
		expect(probe.runs).toBe(1);
	});

	it("validates the body it fingerprinted: malformed JSON is a 400 that releases the key, a parsed body reaches the route", async () => {
		const { apiKey } = await createTenant();
		const malformed = await echo(apiKey, "parse-1", '{"a": 1');
		expect(malformed.status).toBe(400);
		// Nothing was stored: the same key with a well-formed body runs (no 422 for a different body).
		const ran = await echo(apiKey, "parse-1", { a: 1, b: [true] });
		expect(ran.status).toBe(201);
		expect((await json(ran)).body).toEqual({ a: 1, b: [true] });
		// A JSON value the route's schema refuses (not an object) is its 400, not the middleware's.
		const refused = await echo(apiKey, "parse-2", "[1,2]");
		expect(refused.status).toBe(400);
		expect(((await json(refused)).error as { code: string }).code).toBe("validation_failed");
	});

	it("3. replays through the real app (also for the X-Idempotency-Key alias and a quoted key)", async () => {
		const { apiKey } = await createTenant();
		const first = await json(await echo(apiKey, "order-7", { a: 1 }));
		const alias = await echo(apiKey, null, { a: 1 }, { "X-Idempotency-Key": "order-7" });
		expect(alias.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await json(alias)).toEqual(first);
		const quoted = await echo(apiKey, '"order-7"', { a: 1 });
		expect(await json(quoted)).toEqual(first);
	});

	it("4. answers 422 problem+json for the same key with another body, path or method, and runs nothing", async () => {
		const { apiKey } = await createTenant();
		const { probe, send } = createProbeApp({ methods: ["POST", "PUT"] });
		expect((await send("POST", apiKey, "k-4", { n: 1 })).status).toBe(201);
		const otherBody = await send("POST", apiKey, "k-4", { n: 2 });
		expect(otherBody.status).toBe(422);
		expect(otherBody.headers.get("Content-Type")).toContain("application/problem+json");
		expect(await json(otherBody)).toMatchObject({
			error: { code: "idempotency_key_reused", details: { mismatch: "body" } },
		});
		const otherMethod = await send("PUT", apiKey, "k-4", { n: 1 });
		expect(await json(otherMethod)).toMatchObject({
			error: { code: "idempotency_key_reused", details: { mismatch: "method" } },
		});
		expect(probe.runs).toBe(1);
		// Another path on the real app: the key was used on /echo first.
		const real = await createTenant();
		expect((await echo(real.apiKey, "k-4", paymentBody())).status).toBe(201);
		const res = await pay(real.apiKey, "k-4", paymentBody());
		expect(res.status).toBe(422);
		expect(await json(res)).toMatchObject({ error: { details: { mismatch: "path" } } });
	});

	it("5. answers 409 with Retry-After while the first request runs, stores nothing for it, and replays later", async () => {
		const { apiKey } = await createTenant();
		const { probe, send, hold } = createProbeApp({});
		const held = hold();
		const first = send("POST", apiKey, "k-5", { n: 5 });
		await held.entered;
		const during = await send("POST", apiKey, "k-5", { n: 5 });
		expect(during.status).toBe(409);
		expect(Number(during.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
		expect(during.headers.get("Content-Type")).toContain("application/problem+json");
		held.release();
		const firstRes = await first;
		expect(firstRes.status).toBe(201);
		const later = await send("POST", apiKey, "k-5", { n: 5 });
		expect(later.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await later.json()).toEqual(await firstRes.json());
		expect(probe.runs).toBe(1);
	});

	it("6. stores nothing for a request rejected by validation or the rate limiter, so a corrected retry succeeds", async () => {
		const { tenantId, apiKey } = await createTenant();
		const invalid = await pay(apiKey, "k-6", { ...paymentBody(), amount_cents: 1 });
		expect(invalid.status).toBe(400);
		const corrected = await pay(apiKey, "k-6", paymentBody());
		expect(corrected.status).toBe(201);
		expect(corrected.headers.get("Idempotent-Replayed")).toBeNull();

		await setLimits(tenantId, [
			{ name: "tiny", scope: "tenant", algorithm: "fixed_window", limit: 1, window_seconds: 3600 },
		]);
		expect((await call("GET", "/api/v1/whoami", { token: apiKey })).status).toBe(200);
		const limited = await echo(apiKey, "k-6b", { a: 1 });
		expect(limited.status).toBe(429);
		await setLimits(tenantId, []);
		const afterLimit = await echo(apiKey, "k-6b", { a: 1 });
		expect(afterLimit.status).toBe(201);
		expect(afterLimit.headers.get("Idempotent-Replayed")).toBeNull();

		const unauthorized = await call("POST", "/api/v1/echo", {
			token: "fg_live_0000000000000000000000000000000000000000",
			body: { a: 1 },
			headers: { "Idempotency-Key": "k-6c" },
		});
		expect(unauthorized.status).toBe(401);
		expect((await echo(apiKey, "k-6c", { a: 1 })).headers.get("Idempotent-Replayed")).toBeNull();
	});

	it("7. releases the key after a 5xx so that a retry runs again", async () => {
		const { apiKey } = await createTenant();
		const { probe, send } = createProbeApp({});
		probe.failNext = 1;
		expect((await send("POST", apiKey, "k-7", { n: 7 })).status).toBe(500);
		const retry = await send("POST", apiKey, "k-7", { n: 7 });
		expect(retry.status).toBe(201);
		expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
		expect(probe.runs).toBe(2);
	});

	it("8. lets a retry take over once the lock of a request that crashed mid-flight expires", async () => {
		const { tenantId, apiKey } = await createTenant();
		const body = { crashed: true };
		const stub = currentHome(env, tenantId, `${tenantId}:k-8`);
		// A request acquired the key with a 400 ms lock, then its isolate died: it never completes.
		const crashed = await stub.begin(
			{ method: "POST", path: "/api/v1/echo", bodyHash: await sha256Hex(canonicalBody(JSON.stringify(body))) },
			400,
			86_400_000,
		);
		expect(crashed.kind).toBe("acquired");
		expect((await echo(apiKey, "k-8", body)).status).toBe(409);
		await sleep(450);
		const retry = await echo(apiKey, "k-8", body);
		expect(retry.status).toBe(201);
		const replay = await echo(apiKey, "k-8", body);
		expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await json(replay)).toEqual(await json(retry));
		// The crashed request, had it come back, can no longer store its response.
		if (crashed.kind === "acquired")
			expect(await stub.complete(crashed.token, { status: 201, body: "{}", headers: {} }, 1000)).toBe(false);
	});

	it("9. expires records after the retention period through the object's alarm; the key is then new", async () => {
		const { tenantId, apiKey } = await createTenant();
		const { probe, send } = createProbeApp({ retentionSeconds: 1 });
		expect((await send("POST", apiKey, "k-9", { n: 9 })).status).toBe(201);
		expect((await send("POST", apiKey, "k-9", { n: 9 })).headers.get("Idempotent-Replayed")).toBe("true");
		const scope = `${tenantId}:k-9`;
		const stub = env.IDEMPOTENCY_SHARD.getByName(homeShardName(env, tenantId, scope));
		const record = await stub.inspect(scope);
		const alarmAt = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
		// One alarm per shard, never later than the earliest expiry it holds.
		expect(alarmAt).not.toBeNull();
		expect(alarmAt).toBeLessThanOrEqual(record?.expiresAt ?? 0);
		expect(alarmAt).toBeGreaterThan(Date.now());
		expect(await stub.size()).toBe(1);
		await sleep(1200);
		// The alarm fires on its own at expiry; run it now in case the runtime has not got to it yet.
		await runDurableObjectAlarm(stub);
		expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBeNull();
		expect(await stub.inspect(scope)).toBeNull();
		// The row itself is gone, not just hidden by its expiry.
		expect(await stub.size()).toBe(0);
		const fresh = await send("POST", apiKey, "k-9", { n: 10 });
		expect(fresh.status).toBe(201);
		expect(fresh.headers.get("Idempotent-Replayed")).toBeNull();
		expect(probe.runs).toBe(2);
	});

	it("10. keeps the same key of two tenants apart", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const fromA = await json(await echo(a.apiKey, "shared", { who: "a" }));
		const resB = await echo(b.apiKey, "shared", { who: "b" });
		expect(resB.status).toBe(201);
		expect(resB.headers.get("Idempotent-Replayed")).toBeNull();
		const fromB = await json(resB);
		expect(fromB.body).toEqual({ who: "b" });
		expect(fromB.echo_id).not.toBe(fromA.echo_id);
	});

	it("11. ignores the header on GET, HEAD and DELETE", async () => {
		const { apiKey } = await createTenant();
		const { probe, send } = createProbeApp({ required: true });
		for (const method of ["GET", "HEAD", "DELETE", "GET"]) {
			const res = await send(method, apiKey, method === "DELETE" ? "" : "k-11");
			expect(res.status, method).toBe(201);
			expect(res.headers.get("Idempotent-Replayed")).toBeNull();
		}
		expect(probe.runs).toBe(4);
		expect((await send("GET", apiKey, null)).status).toBe(201);
	});
});
