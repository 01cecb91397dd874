import { describe, expect, it } from "vitest";
import { buildRing, hash32, ringFor, shardOf } from "../../../src/cache/ring";

const KEYS = Array.from({ length: 10_000 }, (_, i) => `user:${i}:profile`);

describe("the consistent-hash ring", () => {
	it("spreads 10,000 keys over 8 shards within 25% of the mean", () => {
		const ring = buildRing(8);
		const counts = Array.from({ length: 8 }, () => 0);
		for (const key of KEYS) counts[shardOf(ring, key)] = (counts[shardOf(ring, key)] ?? 0) + 1;
		const mean = KEYS.length / 8;
		for (const count of counts) {
			expect(count).toBeGreaterThan(mean * 0.75);
			expect(count).toBeLessThan(mean * 1.25);
		}
	});

	it("moves about 1/n of the keys when a shard is added, all of them to the new shard", () => {
		for (const before of [4, 8, 16]) {
			const after = before + 1;
			const [from, to] = [buildRing(before), buildRing(after)];
			const moved = KEYS.filter((key) => shardOf(from, key) !== shardOf(to, key));
			const fraction = moved.length / KEYS.length;
			expect(fraction, `${before} → ${after}`).toBeGreaterThan(0.5 / after);
			expect(fraction, `${before} → ${after}`).toBeLessThan(1.5 / after);
			for (const key of moved) expect(shardOf(to, key)).toBe(before);
		}
	});

	it("moves far more keys with modulo placement, which is why the ring exists", () => {
		const moved = KEYS.filter((key) => hash32(key) % 8 !== hash32(key) % 9).length / KEYS.length;
		expect(moved).toBeGreaterThan(0.8);
	});

	it("places a key the same way on every ring of the same size", () => {
		const a = buildRing(8);
		const b = ringFor(8);
		for (const key of KEYS.slice(0, 500)) expect(shardOf(a, key)).toBe(shardOf(b, key));
		expect(ringFor(8)).toBe(b);
	});

	it("puts everything on shard 0 of a one-shard ring and refuses an empty ring", () => {
		const ring = buildRing(1);
		expect(new Set(KEYS.slice(0, 100).map((key) => shardOf(ring, key)))).toEqual(new Set([0]));
		expect(() => buildRing(0)).toThrow(/at least one shard/);
	});

	it("hashes UTF-8 text to unsigned 32-bit values", () => {
		expect(hash32("")).toBe(hash32(""));
		expect(hash32("é")).not.toBe(hash32("e"));
		for (const key of ["", "a", "ключ", "🔑"]) {
			expect(Number.isInteger(hash32(key))).toBe(true);
			expect(hash32(key)).toBeGreaterThanOrEqual(0);
			expect(hash32(key)).toBeLessThan(2 ** 32);
		}
	});
});
