import { describe, expect, it } from "vitest";
import type { Policy, PolicyState } from "../../../src/gateway/limiter/domain";
import { MAX_LEASE_TTL_MS, decide } from "../../../src/gateway/limiter/lease";

const T0 = 1_700_006_400_000;
const bucket: Policy = { name: "ip", algorithm: "token_bucket", limit: 120, windowSeconds: 60, burst: 240 };

describe("lease requests with units already admitted (owed) and a longer lease", () => {
	it("takes owed units before deciding, so a lease comes only from what is left", () => {
		const d = decide([bucket], [], { cost: 1, want: 1, owed: 4 }, T0);
		expect(d.allowed).toBe(true);
		expect(d.states[0]).toMatchObject({ kind: "token_bucket", tokens: 235 });
	});

	it("charges owed units even into debt, refuses, and the refusal lasts until the debt is refilled", () => {
		const low: PolicyState = { kind: "token_bucket", tokens: 2, at: T0 };
		const d = decide([bucket], [low], { cost: 1, want: 24, owed: 6 }, T0);
		expect(d.allowed).toBe(false);
		expect(d.states[0]).toMatchObject({ tokens: -4 });
		// 5 tokens to reach 1 at 2 a second.
		if (!d.allowed) expect(d.unitWaitMs).toBe(2500);
	});

	it("lets a caller ask for a longer lease, capped at MAX_LEASE_TTL_MS", () => {
		const d = decide([bucket], [], { cost: 1, want: 24, ttlMs: 30_000 }, T0);
		expect(d.allowed && d.expiresAt).toBe(T0 + 30_000);
		expect(d.allowed && d.granted).toBe(24);
		const capped = decide([bucket], [], { cost: 1, want: 24, ttlMs: 10 * MAX_LEASE_TTL_MS }, T0);
		expect(capped.allowed && capped.expiresAt).toBe(T0 + MAX_LEASE_TTL_MS);
	});
});
