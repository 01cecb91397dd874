import { describe, expect, it } from "vitest";
import {
	MAX_ATTEMPTS,
	MAX_DELAY_SECONDS,
	decide,
	jittered,
	retryAfterSeconds,
	takeToken,
} from "../../../src/delivery/schedule";

const NOW = Date.parse("2026-11-29T00:00:00Z");
const status = (s: number, retryAfter: string | null = null) => ({ kind: "response" as const, status: s, retryAfter });

describe("the delivery retry schedule", () => {
	it("waits about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after failures 1-7 (±20%), then dead", () => {
		const expected = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
		for (const [i, base] of expected.entries()) {
			const low = decide(status(500), i + 1, NOW, 0);
			const high = decide(status(500), i + 1, NOW, 0.999_999);
			expect(low).toEqual({ kind: "retry", delaySeconds: Math.round(base * 0.8) });
			expect(high).toEqual({ kind: "retry", delaySeconds: Math.round(base * 1.2) });
		}
		expect(MAX_ATTEMPTS).toBe(8);
		expect(decide(status(500), 8, NOW, 0.5)).toEqual({ kind: "dead", reason: "8 attempts failed (last: HTTP 500)" });
	});

	it("succeeds on any 2xx, stops on 410, dead-letters a refused destination at once", () => {
		expect(decide(status(204), 1, NOW, 0.5)).toEqual({ kind: "succeeded" });
		expect(decide(status(410), 1, NOW, 0.5).kind).toBe("gone");
		expect(decide({ kind: "error", message: "private", refused: true }, 1, NOW, 0.5).kind).toBe("dead");
		expect(decide({ kind: "error", message: "timeout", refused: false }, 1, NOW, 0.5).kind).toBe("retry");
		expect(decide(status(301), 1, NOW, 0.5).kind).toBe("retry");
	});

	it("honours Retry-After (seconds or a date) on 429 and 503 only, capped at 12 h", () => {
		expect(decide(status(429, "120"), 1, NOW, 0.5)).toEqual({ kind: "retry", delaySeconds: 120 });
		expect(decide(status(503, new Date(NOW + 60_000).toUTCString()), 1, NOW, 0.5)).toEqual({
			kind: "retry",
			delaySeconds: 60,
		});
		expect(decide(status(503, "999999"), 1, NOW, 0.5)).toEqual({ kind: "retry", delaySeconds: MAX_DELAY_SECONDS });
		expect(decide(status(500, "120"), 1, NOW, 0.5)).toEqual({ kind: "retry", delaySeconds: 5 });
		expect(retryAfterSeconds("soon", NOW)).toBeNull();
		expect(retryAfterSeconds(null, NOW)).toBeNull();
		expect(jittered(0, 0.9)).toBe(0);
	});
});

describe("lane pacing", () => {
	it("lets one delivery through per 1/rate seconds, with no burst", () => {
		let state = takeToken(null, 2, NOW);
		expect(state.waitMs).toBe(0);
		state = takeToken(state.bucket, 2, NOW);
		expect(state.waitMs).toBe(500);
		state = takeToken(state.bucket, 2, NOW + 250);
		expect(state.waitMs).toBe(250);
		state = takeToken(state.bucket, 2, NOW + 500);
		expect(state.waitMs).toBe(0);
		// A long idle gap does not bank more than one delivery.
		state = takeToken(state.bucket, 2, NOW + 60_000);
		expect(state.waitMs).toBe(0);
		expect(takeToken(state.bucket, 2, NOW + 60_000).waitMs).toBe(500);
	});
});
