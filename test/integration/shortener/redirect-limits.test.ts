import { describe, expect, it } from "vitest";
import { FIRST_SIGHT_UNITS } from "../../../src/shortener/redirect-limiter";
import { createTenant } from "../helpers";
import { errorCode, mustCreate, visit } from "./links-helpers";

/** The per-IP redirect limit: a token bucket of 120/min with a burst of 240. */
const BURST = 240;
const PER_SECOND = 2;

describe("redirect limits from isolate leases", () => {
	it("admits an IP its burst plus at most the first-sight allowance, then 429 with Retry-After; other IPs go on", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/limits" });
		const ip = { "CF-Connecting-IP": `198.51.100.${10 + Math.floor(Math.random() * 200)}` };
		const started = Date.now();
		let admitted = 0;
		let refused: Response | null = null;
		for (let i = 0; i < BURST + 60; i++) {
			const res = await visit(link.slug, { query: "?preview=true", headers: ip });
			if (res.status === 200) admitted += 1;
			else {
				refused = res;
				break;
			}
		}
		const refill = Math.ceil(((Date.now() - started) / 1000) * PER_SECOND);
		// Never fewer than the bucket holds (one isolate holds every leased unit), never more than
		// the bucket, its refill and the units admitted before the object first answered.
		expect(admitted).toBeGreaterThanOrEqual(BURST);
		expect(admitted).toBeLessThanOrEqual(BURST + FIRST_SIGHT_UNITS + refill);
		expect(refused?.status).toBe(429);
		expect(Number(refused?.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
		expect(refused ? await errorCode(refused) : "").toBe("rate_limited");
		// Still refused (decided in the isolate until the bucket has a unit again); another client is not.
		expect((await visit(link.slug, { headers: ip })).status).toBe(429);
		expect((await visit(link.slug, { headers: { "CF-Connecting-IP": "192.0.2.201" } })).status).toBe(302);
	});
});
