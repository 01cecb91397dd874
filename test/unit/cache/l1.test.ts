import { describe, expect, it } from "vitest";
import {
	L1_LIMITS,
	L1_TTL_MS,
	admitL1,
	dropL1,
	dropL1Namespace,
	dropL1Shard,
	l1Epoch,
	readL1,
} from "../../../src/cache/l1";
import type { L1Entry } from "../../../src/cache/l1";

let n = 0;
const scope = () => ({ tenantId: `t${n++}`, namespace: "ns" });
const entry = (value: string, expiresAt: number, shared = true): L1Entry => ({
	value,
	expiresAt,
	shard: `shard-${value}`,
	shared,
});
const admit = (s: ReturnType<typeof scope>, key: string, e: L1Entry, now: number, force = false) =>
	admitL1(s, key, e, { force, since: l1Epoch() }, now);

describe("the per-isolate L1", () => {
	it("admits a key on its second shard read, at once when forced, never past L1_TTL_MS or its expiry", () => {
		const s = scope();
		const now = Date.now();
		admit(s, "k", entry("1", now + 60_000), now);
		expect(readL1(s, "k", now)).toBeUndefined();
		admit(s, "k", entry("1", now + 60_000), now);
		expect(readL1(s, "k", now)?.value).toBe("1");
		expect(readL1(s, "k", now + L1_TTL_MS)).toBeUndefined();
		expect(L1_LIMITS.admitAfterReads).toBe(2);

		admit(s, "forced", entry("2", now + 500), now, true);
		expect(readL1(s, "forced", now + 499)?.value).toBe("2");
		expect(readL1(s, "forced", now + 500)).toBeUndefined();
	});

	it("counts no admission for a namespace with l1 off, unless forced", () => {
		const s = scope();
		const now = Date.now();
		for (let i = 0; i < 3; i++) admit(s, "k", entry("1", now + 60_000, false), now);
		expect(readL1(s, "k", now)).toBeUndefined();
		admit(s, "k", entry("1", now + 60_000, false), now, true);
		expect(readL1(s, "k", now)).toMatchObject({ value: "1", shared: false });
	});

	it("refuses an answer that was in flight across a local write, delete or invalidation", () => {
		const s = scope();
		const now = Date.now();
		const since = l1Epoch();
		dropL1(s, "other");
		admitL1(s, "k", entry("old", now + 60_000), { force: true, since }, now);
		expect(readL1(s, "k", now)).toBeUndefined();
	});

	it("drops by key, by namespace and by shard, never another tenant's entries", () => {
		const a = scope();
		const b = { ...a, tenantId: `${a.tenantId}-b` };
		const now = Date.now();
		for (const key of ["x", "y"]) {
			admit(a, key, { ...entry(key, now + 60_000), shard: `${a.tenantId}:ns:${key}` }, now, true);
			admit(b, key, { ...entry(key, now + 60_000), shard: `${b.tenantId}:ns:${key}` }, now, true);
		}
		dropL1(a, "x");
		expect(readL1(a, "x", now)).toBeUndefined();
		expect(readL1(b, "x", now)?.value).toBe("x");
		dropL1Shard(`${a.tenantId}:ns:y`);
		expect(readL1(a, "y", now)).toBeUndefined();
		expect(readL1(b, "y", now)?.value).toBe("y");
		dropL1Namespace(b);
		expect(readL1(b, "x", now)).toBeUndefined();
	});
});
