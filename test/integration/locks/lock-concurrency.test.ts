import { describe, expect, it } from "vitest";
import { createTenant, sleep } from "../helpers";
import { mustAcquire, mustRelease, uniqueLock } from "./lock-helpers";

type Interval = { owner: string; mode: "exclusive" | "shared"; token: number; grantedAt: number; releasedAt: number };

const CLIENTS = 30;
const ROUNDS = 3;

/**
 * Each client loops: acquire (waiting in the queue), hold briefly, release. The history uses the
 * lock object's own clock (granted_at, released_at), so it can be checked without clock skew.
 */
async function runClients(apiKey: string, name: string, modeOf: (client: number) => "exclusive" | "shared") {
	const history: Interval[] = [];
	await Promise.all(
		Array.from({ length: CLIENTS }, async (_, client) => {
			const mode = modeOf(client);
			for (let round = 0; round < ROUNDS; round++) {
				const owner = `client-${client}`;
				const grant = await mustAcquire(apiKey, name, { owner, ttl_ms: 60_000, wait_ms: 30_000, mode });
				await sleep(client % 3);
				const releasedAt = await mustRelease(apiKey, name, grant);
				history.push({ owner, mode, token: grant.token, grantedAt: grant.granted_at, releasedAt });
			}
		}),
	);
	return history.sort((a, b) => a.token - b.token);
}

function overlaps(a: Interval, b: Interval): boolean {
	return a.grantedAt < b.releasedAt && b.grantedAt < a.releasedAt;
}

describe("a lock under many concurrent clients", () => {
	it("never overlaps exclusive grants and issues tokens in grant order", async () => {
		const { apiKey } = await createTenant();
		const name = uniqueLock("contended");
		const history = await runClients(apiKey, name, () => "exclusive");
		expect(history).toHaveLength(CLIENTS * ROUNDS);
		// Every grant got its own token, 1..n, with no gaps (each grant is one token).
		expect(history.map((h) => h.token)).toEqual(history.map((_, i) => i + 1));
		for (let i = 1; i < history.length; i++) {
			const previous = history[i - 1];
			const current = history[i];
			if (!previous || !current) continue;
			// In token order, each grant starts once the previous holder has released: no overlap,
			// and the tokens increase in the order the grants were made.
			expect(current.grantedAt, `token ${current.token} vs ${previous.token}`).toBeGreaterThanOrEqual(
				previous.releasedAt,
			);
		}
	});

	it("lets readers overlap but never a writer with anyone, under a mix of both", async () => {
		const { apiKey } = await createTenant();
		const name = uniqueLock("mixed");
		const history = await runClients(apiKey, name, (client) => (client % 3 === 0 ? "exclusive" : "shared"));
		expect(history.map((h) => h.token)).toEqual(history.map((_, i) => i + 1));
		const writers = history.filter((h) => h.mode === "exclusive");
		expect(writers).toHaveLength((CLIENTS / 3) * ROUNDS);
		for (const writer of writers) {
			const clash = history.find((other) => other !== writer && overlaps(writer, other));
			expect(clash, `writer token ${writer.token} overlaps ${JSON.stringify(clash)}`).toBeUndefined();
		}
		// Grant order follows the tokens.
		for (let i = 1; i < history.length; i++) {
			expect(history[i]?.grantedAt).toBeGreaterThanOrEqual(history[i - 1]?.grantedAt ?? 0);
		}
	});
});
