import { describe, expect, it } from "vitest";
import { decideGrant } from "../../../src/shortener/cap-counter";

describe("the grant counter's rule", () => {
	it("asks for a fresh count before its first grant, then seeds from it", () => {
		expect(decideGrant(null, { cap: 3, counted: 1, fresh: false })).toEqual({
			next: null,
			result: { ok: false, code: "unseeded" },
		});
		expect(decideGrant(null, { cap: 3, counted: 1, fresh: true })).toEqual({
			next: 2,
			result: { ok: true, granted: 2 },
		});
	});

	it("grants up to the cap, then answers exhausted without writing", () => {
		let granted: number | null = 0;
		const answers: boolean[] = [];
		for (let i = 0; i < 5; i++) {
			const { next, result } = decideGrant(granted, { cap: 3, counted: 0, fresh: false });
			answers.push(result.ok);
			if (next !== null) granted = next;
			if (i >= 3) expect(next).toBeNull();
		}
		expect(answers).toEqual([true, true, true, false, false]);
		expect(granted).toBe(3);
	});

	it("takes the cap of each ask (a raised cap grants more, a lowered one none) and never lowers the count", () => {
		expect(decideGrant(3, { cap: 5, counted: 0, fresh: false }).result).toEqual({ ok: true, granted: 4 });
		expect(decideGrant(4, { cap: 2, counted: 0, fresh: false })).toEqual({
			next: null,
			result: { ok: false, code: "exhausted", granted: 4 },
		});
	});

	it("raises the count to clicks counted outside it (e.g. while the link was uncapped)", () => {
		expect(decideGrant(2, { cap: 200, counted: 105, fresh: false })).toEqual({
			next: 106,
			result: { ok: true, granted: 106 },
		});
		expect(decideGrant(2, { cap: 100, counted: 105, fresh: false })).toEqual({
			next: 105,
			result: { ok: false, code: "exhausted", granted: 105 },
		});
	});

	it("refuses asks that are not counts (a bug in the caller)", () => {
		expect(() => decideGrant(0, { cap: 0, counted: 0, fresh: true })).toThrow();
		expect(() => decideGrant(0, { cap: 2, counted: -1, fresh: true })).toThrow();
		expect(() => decideGrant(0, { cap: 1.5, counted: 0, fresh: true })).toThrow();
	});
});
