import { array, assert, integer, property } from "fast-check";
import { describe, expect, it } from "vitest";
import type { PassiveHealth, Peer } from "../../../src/apigw/balancer";
import { choosePeer, isEjected, newPeers, pickWeighted, reportOutcome } from "../../../src/apigw/balancer";

const T0 = 1_800_000_000_000;
const HEALTH: PassiveHealth = { failures: 3, window_seconds: 30, cooldown_seconds: 10 };
const NONE = { tried: new Set<string>(), down: new Set<string>() };

function picks(peers: Peer[], n: number): string[] {
	return Array.from({ length: n }, () => pickWeighted(peers, () => true)?.url ?? "none");
}

describe("smooth weighted round robin", () => {
	it("spreads weights 5,1,1 the way nginx does: a a b a c a a", () => {
		const peers = newPeers([
			{ url: "a", weight: 5 },
			{ url: "b", weight: 1 },
			{ url: "c", weight: 1 },
		]);
		expect(picks(peers, 7)).toEqual(["a", "a", "b", "a", "c", "a", "a"]);
	});

	it("gives every peer exactly its share of each full cycle, for any weights", () => {
		assert(
			property(array(integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 8 }), (weights) => {
				const peers = newPeers(weights.map((weight, i) => ({ url: `u${i}`, weight })));
				const total = weights.reduce((a, b) => a + b, 0);
				const seen = picks(peers, total * 3);
				weights.forEach((w, i) => expect(seen.filter((u) => u === `u${i}`).length).toBe(w * 3));
			}),
		);
	});

	it("never picks the same peer twice in a row when two have equal weight", () => {
		const peers = newPeers([
			{ url: "a", weight: 2 },
			{ url: "b", weight: 2 },
		]);
		expect(picks(peers, 6)).toEqual(["a", "b", "a", "b", "a", "b"]);
	});

	it("skips peers that are not eligible and answers null when none is", () => {
		const peers = newPeers([
			{ url: "a", weight: 3 },
			{ url: "b", weight: 1 },
		]);
		expect(pickWeighted(peers, (p) => p.url === "b")?.url).toBe("b");
		expect(pickWeighted(peers, () => false)).toBeNull();
	});
});

describe("passive health", () => {
	it("ejects an upstream after N failures in the window and sends traffic to the others", () => {
		const peers = newPeers([
			{ url: "a", weight: 1 },
			{ url: "b", weight: 1 },
		]);
		const a = peers[0];
		if (!a) throw new Error("no peer");
		for (let i = 0; i < 3; i++) reportOutcome(a, HEALTH, T0 + i, false, false);
		expect(isEjected(a, HEALTH, T0 + 10)).toBe(true);
		const chosen = Array.from({ length: 4 }, () => choosePeer(peers, HEALTH, T0 + 100, NONE)?.peer.url);
		expect(chosen).toEqual(["b", "b", "b", "b"]);
	});

	it("does not eject for failures spread wider than the window", () => {
		const [a] = newPeers([{ url: "a", weight: 1 }]);
		if (!a) throw new Error("no peer");
		for (let i = 0; i < 3; i++) reportOutcome(a, HEALTH, T0 + i * 20_000, false, false);
		expect(isEjected(a, HEALTH, T0 + 40_001)).toBe(false);
	});

	it("lets one trial through after the cool-down; its success brings the upstream back", () => {
		const peers = newPeers([{ url: "a", weight: 1 }]);
		const [a] = peers;
		if (!a) throw new Error("no peer");
		for (let i = 0; i < 3; i++) reportOutcome(a, HEALTH, T0, false, false);
		expect(choosePeer(peers, HEALTH, T0 + 9_999, NONE)).toBeNull();
		const trial = choosePeer(peers, HEALTH, T0 + 10_000, NONE);
		expect(trial?.trial).toBe(true);
		// While the trial is out, nobody else gets through.
		expect(choosePeer(peers, HEALTH, T0 + 10_001, NONE)).toBeNull();
		reportOutcome(a, HEALTH, T0 + 10_050, true, true);
		expect(choosePeer(peers, HEALTH, T0 + 10_060, NONE)?.trial).toBe(false);
	});

	it("ejects again for the full cool-down when the trial fails", () => {
		const peers = newPeers([{ url: "a", weight: 1 }]);
		const [a] = peers;
		if (!a) throw new Error("no peer");
		for (let i = 0; i < 3; i++) reportOutcome(a, HEALTH, T0, false, false);
		const trial = choosePeer(peers, HEALTH, T0 + 10_000, NONE);
		reportOutcome(a, HEALTH, T0 + 10_010, false, trial?.trial ?? false);
		expect(choosePeer(peers, HEALTH, T0 + 19_000, NONE)).toBeNull();
		expect(choosePeer(peers, HEALTH, T0 + 20_010, NONE)?.trial).toBe(true);
	});

	it("avoids an upstream the active check found down while another is up, and uses it when none is", () => {
		const peers = newPeers([
			{ url: "a", weight: 1 },
			{ url: "b", weight: 1 },
		]);
		const downA = { tried: new Set<string>(), down: new Set(["a"]) };
		expect(Array.from({ length: 3 }, () => choosePeer(peers, HEALTH, T0, downA)?.peer.url)).toEqual(["b", "b", "b"]);
		const allDown = { tried: new Set<string>(), down: new Set(["a", "b"]) };
		expect(choosePeer(peers, HEALTH, T0, allDown)).not.toBeNull();
	});

	it("skips upstreams already tried for this request", () => {
		const peers = newPeers([
			{ url: "a", weight: 10 },
			{ url: "b", weight: 1 },
		]);
		expect(choosePeer(peers, HEALTH, T0, { tried: new Set(["a"]), down: new Set() })?.peer.url).toBe("b");
	});
});
