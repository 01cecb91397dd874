import { describe, expect, it } from "vitest";
import { InvocationBudget, Semaphore, SUBREQUEST_HEADROOM, WRAP_UP_MS } from "../../../src/jobs/budget";
import { MAX_GROUP, OutcomeWriter } from "../../../src/jobs/outcome-writer";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("an invocation's budget", () => {
	it("spends subrequests only while they last, keeping the headroom back", () => {
		const budget = new InvocationBudget({ startedAt: 0, subrequests: SUBREQUEST_HEADROOM + 10 });
		expect(budget.trySpend(8)).toBe(true);
		expect(budget.trySpend(3)).toBe(false);
		expect(budget.left).toBe(2);
		budget.spend(5);
		expect(budget.left).toBe(-3);
	});

	it("says whether work ends before the wall time, less the wrap-up", () => {
		const budget = new InvocationBudget({ startedAt: 1_000, wallMs: WRAP_UP_MS + 10_000 });
		expect(budget.fits(1_000, 10_000)).toBe(true);
		expect(budget.fits(1_001, 10_000)).toBe(false);
	});

	it("lets no more than six fetching jobs hold a connection at once", async () => {
		const budget = new InvocationBudget({ startedAt: Date.now() });
		let inFlight = 0;
		let peak = 0;
		await Promise.all(
			Array.from({ length: 20 }, async () =>
				budget.outbound.run(async () => {
					inFlight++;
					peak = Math.max(peak, inFlight);
					await sleep(5);
					inFlight--;
				}),
			),
		);
		expect(peak).toBe(6);
	});

	it("frees a semaphore's place when the work throws", async () => {
		const one = new Semaphore(1);
		await expect(one.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
		expect(await one.run(async () => "next")).toBe("next");
	});
});

describe("the outcome writer", () => {
	it("writes a full group at once, what finished during that write as the next group, the rest at close", async () => {
		const groups: number[][] = [];
		const writer = new OutcomeWriter<number>(async (g) => void groups.push(g), { every: 3, intervalMs: 10_000 });
		for (let i = 0; i < 7; i++) writer.add(i);
		await sleep(0);
		// Group commit: 3..6 finished while [0, 1, 2] was being written, so they go out together.
		expect(groups).toEqual([
			[0, 1, 2],
			[3, 4, 5, 6],
		]);
		writer.add(7);
		await sleep(0);
		expect(groups).toHaveLength(2);
		await writer.close();
		expect(groups).toEqual([[0, 1, 2], [3, 4, 5, 6], [7]]);
	});

	it("caps a group at MAX_GROUP attempts and keeps finishing order", async () => {
		const groups: number[][] = [];
		const writer = new OutcomeWriter<number>(async (g) => void groups.push(g), { every: 20, intervalMs: 10_000 });
		const total = MAX_GROUP * 2 + 200;
		for (let i = 0; i < total; i++) writer.add(i);
		await writer.close();
		expect(groups.map((g) => g.length)).toEqual([20, MAX_GROUP, MAX_GROUP, total - 20 - 2 * MAX_GROUP]);
		expect(groups.flat()).toEqual(Array.from({ length: total }, (_, i) => i));
	});

	it("writes a partial group after the interval, unless the budget says no", async () => {
		const groups: number[][] = [];
		let allow = true;
		const writer = new OutcomeWriter<number>(async (g) => void groups.push(g), {
			every: 10,
			intervalMs: 20,
			mayFlushEarly: () => allow,
		});
		writer.add(1);
		await sleep(60);
		expect(groups).toEqual([[1]]);
		allow = false;
		writer.add(2);
		await sleep(60);
		expect(groups).toEqual([[1]]);
		await writer.close();
		expect(groups).toEqual([[1], [2]]);
	});

	it("tries every group even after one failed, and reports the first failure at close", async () => {
		const written: number[][] = [];
		let calls = 0;
		const writer = new OutcomeWriter<number>(
			async (g) => {
				calls++;
				if (calls === 1) throw new Error("D1 down");
				written.push(g);
			},
			{ every: 1 },
		);
		writer.add(1);
		writer.add(2);
		await expect(writer.close()).rejects.toThrow("D1 down");
		expect(written).toEqual([[2]]);
	});
});
