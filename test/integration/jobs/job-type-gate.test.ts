import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sleep } from "../helpers";

describe("JobTypeGate (per-type limits shared by all isolates)", () => {
	it("admits rate_per_second jobs per second, then says when to retry", async () => {
		const gate = env.JOB_TYPE_GATE.getByName(`gate-rate-${crypto.randomUUID()}`);
		const limits = { maxConcurrency: null, ratePerSecond: 2 };
		const results = [];
		for (let i = 0; i < 3; i++) results.push(await gate.acquire(`job-${i}`, limits, 60_000));
		expect(results.slice(0, 2)).toEqual([{ ok: true }, { ok: true }]);
		expect(results[2]).toMatchObject({ ok: false, code: "rate" });
		const retry = results[2] && !results[2].ok ? results[2].retryAfterMs : 0;
		expect(retry).toBeGreaterThan(0);
		expect(retry).toBeLessThanOrEqual(500);
		await sleep(retry + 50);
		expect(await gate.acquire("job-2", limits, 60_000)).toEqual({ ok: true });
	});

	it("holds at most max_concurrency leases, frees a slot on release, and is idempotent per job", async () => {
		const gate = env.JOB_TYPE_GATE.getByName(`gate-cc-${crypto.randomUUID()}`);
		const limits = { maxConcurrency: 2, ratePerSecond: null };
		expect(await gate.acquire("a", limits, 60_000)).toEqual({ ok: true });
		expect(await gate.acquire("a", limits, 60_000)).toEqual({ ok: true }); // the same job again takes no second slot
		expect(await gate.acquire("b", limits, 60_000)).toEqual({ ok: true });
		expect(await gate.acquire("c", limits, 60_000)).toMatchObject({ ok: false, code: "concurrency" });
		await gate.release("a");
		expect(await gate.acquire("c", limits, 60_000)).toEqual({ ok: true });
		expect(await gate.active()).toBe(2);
	});

	it("frees the slot of a job whose lease expired (a crashed consumer cannot leak it)", async () => {
		const gate = env.JOB_TYPE_GATE.getByName(`gate-exp-${crypto.randomUUID()}`);
		const limits = { maxConcurrency: 1, ratePerSecond: null };
		expect(await gate.acquire("crashed", limits, 100)).toEqual({ ok: true });
		expect(await gate.acquire("next", limits, 60_000)).toMatchObject({ ok: false });
		await sleep(150);
		expect(await gate.acquire("next", limits, 60_000)).toEqual({ ok: true });
	});
});
