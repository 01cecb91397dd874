import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, createTenant, sleep } from "../helpers";
import { errorCode, interceptOrigin, mustPut, put, read, shardStub, stats, uniqueNamespace } from "./cache-helpers";

afterEach(() => vi.restoreAllMocks());

type Delivery = { method: string; body: string; idempotencyKey: string | null; cacheKey: string | null };

/** The origin (a third party at https://origin.example/), answering `status` to every write. */
function origin(status: () => number): Delivery[] {
	const writes: Delivery[] = [];
	interceptOrigin(async (req) => {
		writes.push({
			method: req.method,
			body: await req.text(),
			idempotencyKey: req.headers.get("Idempotency-Key"),
			cacheKey: req.headers.get("Floodgate-Cache-Key"),
		});
		return new Response(null, { status: status() });
	});
	return writes;
}

const ORIGIN = "https://origin.example/items";

describe("write-through", () => {
	it("writes to the origin first, then caches the value", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace("wt");
		const writes = origin(() => 204);
		const res = await put(apiKey, ns, "user:1", {
			value: { name: "Ada" },
			ttl: 60,
			write: { mode: "through", url: ORIGIN },
		});
		expect(res.status).toBe(200);
		expect(writes).toHaveLength(1);
		expect(writes[0]).toMatchObject({ method: "PUT", body: '{"name":"Ada"}', cacheKey: "user%3A1" });
		expect(writes[0]?.idempotencyKey).toMatch(/^cw_[0-9a-f]{40}$/);
		expect((await read(apiKey, ns, "user:1"))?.value).toEqual({ name: "Ada" });
	});

	it("answers 502 and drops the key when the origin refuses the write", async () => {
		const { apiKey } = await createTenant();
		const ns = uniqueNamespace("wt");
		await mustPut(apiKey, ns, "k", "old");
		origin(() => 500);
		const res = await put(apiKey, ns, "k", { value: "new", ttl: 60, write: { mode: "through", url: ORIGIN } });
		expect(res.status).toBe(502);
		expect(await errorCode(res)).toBe("origin_write_failed");
		expect(await read(apiKey, ns, "k")).toBeNull();
	});

	it("passes the caller's Idempotency-Key to the origin", async () => {
		const { apiKey } = await createTenant();
		const writes = origin(() => 200);
		const res = await call("PUT", `/api/v1/cache/${uniqueNamespace("wt")}/k`, {
			token: apiKey,
			body: { value: 1, ttl: 60, write: { mode: "through", url: ORIGIN } },
			headers: { "Idempotency-Key": "caller-key-1" },
		});
		expect(res.status).toBe(200);
		expect(writes[0]?.idempotencyKey).toBe("caller-key-1");
	});

	it("refuses an origin the destination policy does not allow, without calling it", async () => {
		const { apiKey } = await createTenant();
		const writes = origin(() => 200);
		for (const mode of ["through", "behind"]) {
			const res = await put(apiKey, uniqueNamespace("wt"), "k", {
				value: 1,
				ttl: 60,
				write: { mode, url: "https://10.0.0.5/x" },
			});
			expect(res.status).toBe(400);
			expect(await errorCode(res)).toBe("destination_not_allowed");
		}
		expect(writes).toEqual([]);
	});
});

describe("write-behind", () => {
	it("answers once the value and its pending write are stored, and delivers from the shard's alarm", async () => {
		const { apiKey, tenantId } = await createTenant();
		const ns = uniqueNamespace("wb");
		const writes = origin(() => 200);
		const res = await put(apiKey, ns, "k", { value: { v: 1 }, ttl: 60, write: { mode: "behind", url: ORIGIN } });
		expect(res.status).toBe(200);
		expect((await read(apiKey, ns, "k"))?.value).toEqual({ v: 1 });
		expect(await stats(apiKey, ns)).toMatchObject({ write_behind: { pending: 1, failed: 0 } });
		await runDurableObjectAlarm(shardStub(tenantId, ns, "k"));
		expect(writes.map((w) => w.body)).toEqual(['{"v":1}']);
		expect(await stats(apiKey, ns)).toMatchObject({ write_behind: { pending: 0, failed: 0 } });
	});

	it("coalesces writes of one key made before delivery: the origin gets the latest value once", async () => {
		const { apiKey, tenantId } = await createTenant();
		const ns = uniqueNamespace("wb");
		const writes = origin(() => 200);
		for (const v of [1, 2, 3]) {
			const res = await put(apiKey, ns, "k", { value: v, ttl: 60, write: { mode: "behind", url: ORIGIN } });
			expect(res.status).toBe(200);
		}
		await runDurableObjectAlarm(shardStub(tenantId, ns, "k"));
		expect(writes.map((w) => w.body)).toEqual(["3"]);
	});

	it("keeps a failed write and retries it after the backoff until the origin takes it", async () => {
		const { apiKey, tenantId } = await createTenant();
		const ns = uniqueNamespace("wb");
		let status = 503;
		const writes = origin(() => status);
		await put(apiKey, ns, "k", { value: "v", ttl: 60, write: { mode: "behind", url: ORIGIN } });
		const shard = shardStub(tenantId, ns, "k");
		await runDurableObjectAlarm(shard);
		expect(writes).toHaveLength(1);
		expect(await stats(apiKey, ns)).toMatchObject({ write_behind: { pending: 1, failed: 0 } });
		status = 200;
		await sleep(1_100);
		await runDurableObjectAlarm(shard);
		expect(writes).toHaveLength(2);
		expect(writes[1]?.idempotencyKey).toBe(writes[0]?.idempotencyKey);
		expect(await stats(apiKey, ns)).toMatchObject({ write_behind: { pending: 0, failed: 0 } });
	});

	it("keeps a write the origin refuses for good as failed, never dropping it", async () => {
		const { apiKey, tenantId } = await createTenant();
		const ns = uniqueNamespace("wb");
		const writes = origin(() => 422);
		await put(apiKey, ns, "k", { value: "v", ttl: 60, write: { mode: "behind", url: ORIGIN } });
		await runDurableObjectAlarm(shardStub(tenantId, ns, "k"));
		expect(writes).toHaveLength(1);
		expect(await stats(apiKey, ns)).toMatchObject({ write_behind: { pending: 0, failed: 1 } });
	});
});
