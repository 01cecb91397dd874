import { describe, expect, it } from "vitest";
import { mapBounded } from "../../../src/cache/service";

describe("the bounded fan-out", () => {
	it("never runs more than the limit at once and answers in input order", async () => {
		let running = 0;
		let peak = 0;
		const items = Array.from({ length: 20 }, (_, i) => i);
		const out = await mapBounded(items, 6, async (i) => {
			running++;
			peak = Math.max(peak, running);
			await new Promise((resolve) => setTimeout(resolve, (i * 7) % 5));
			running--;
			return i * 2;
		});
		expect(out).toEqual(items.map((i) => i * 2));
		expect(peak).toBe(6);
	});

	it("rejects when one call fails, and handles an empty list", async () => {
		await expect(
			mapBounded([1, 2, 3], 2, async (i) => {
				if (i === 2) throw new Error("shard down");
				return i;
			}),
		).rejects.toThrow("shard down");
		expect(await mapBounded([], 6, async () => 1)).toEqual([]);
	});
});
