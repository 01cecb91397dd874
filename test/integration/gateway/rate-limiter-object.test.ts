import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Policy } from "../../../src/gateway/limiter/domain";

const daily: Policy = { name: "daily", algorithm: "fixed_window", limit: 5, windowSeconds: 86_400 };

describe("RateLimiter object", () => {
	it("keeps its counts across an eviction (state is persisted before it answers)", async () => {
		const stub = env.RATE_LIMITER.getByName("test:persist");
		for (let i = 0; i < 3; i++) await stub.acquire([daily], { cost: 1, want: 1 });
		await evictDurableObject(stub);
		const views = await stub.peek([daily]);
		expect(views[0]?.remaining).toBe(2);
	});

	it("drops idle state when its alarm finds every quota restored", async () => {
		const bucket: Policy = { name: "b", algorithm: "token_bucket", limit: 1000, windowSeconds: 1 };
		const stub = env.RATE_LIMITER.getByName("test:idle");
		await stub.acquire([bucket], { cost: 1, want: 1 });
		// Pretend the last use was long ago: rewrite the stored timestamp, then run the alarm.
		await runInDurableObject(stub, (_instance, state) => {
			const row = state.storage.sql.exec<{ id: string; state: string }>("SELECT id, state FROM policy_state").one();
			const entry = JSON.parse(row.state) as { state: { at: number } };
			entry.state.at -= 10 * 60_000;
			state.storage.sql.exec("UPDATE policy_state SET state = ? WHERE id = ?", JSON.stringify(entry), row.id);
		});
		await evictDurableObject(stub);
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		const rows = await runInDurableObject(
			stub,
			(_i, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM policy_state").one().n,
		);
		expect(rows).toBe(0);
		// The same instance keeps working from a fresh bucket.
		expect(await stub.acquire([bucket], { cost: 1, want: 1 })).toMatchObject({ allowed: true });
	});

	it("keeps state that still constrains when the alarm fires", async () => {
		const stub = env.RATE_LIMITER.getByName("test:busy");
		await stub.acquire([daily], { cost: 5, want: 5 });
		await runDurableObjectAlarm(stub);
		expect((await stub.peek([daily]))[0]?.remaining).toBe(0);
	});
});
