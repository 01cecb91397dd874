import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StoredPoint } from "../../../src/telemetry/domain";
import { DEVICE_LEASE_TTL_MS, laneTargets, locationMessages } from "../../../src/telemetry/lanes";
import { leaseOf, takeTokens } from "../../../src/gateway/limiter/service";

// A device's lane budget is leased to the isolate for DEVICE_LEASE_TTL_MS (8 s), its tenant's for
// the limiter's default 3 s: the device's object is asked a fifth as often, the admitted total
// stays within the budget.
describe("ingest lane leases", () => {
	it("leases a device's budget for 8 s and the tenant's for the default 3 s", async () => {
		const tenantId = `ten_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
		const now = Date.now();
		const point = (i: number): StoredPoint => ({
			truck_id: "truck-lease",
			lat: 1,
			lng: 2,
			speed_kmh: null,
			heading: null,
			recorded_at: now + i,
		});
		const meta = { v: 1 as const, tenant_id: tenantId, received_at: now, colo: null, country: null };
		const limits = { live: { device: 600, tenant: 6000 }, backfill: { device: 60, tenant: 600 } };
		let n = 0;
		const targetsOf = () =>
			laneTargets(
				tenantId,
				locationMessages(meta, [point(n++)], now - 600_000, () => `msg_${String(n).padStart(24, "0")}`),
				limits,
			);
		const [tenantTarget, deviceTarget] = targetsOf();
		expect(tenantTarget?.leaseTtlMs).toBeUndefined();
		expect(deviceTarget?.leaseTtlMs).toBe(DEVICE_LEASE_TTL_MS);

		// The first take asks for its own unit only; the second asks for more and gets a lease.
		for (let i = 0; i < 3; i++) expect((await takeTokens(env.RATE_LIMITER, targetsOf())).allowed).toBe(true);
		const device = leaseOf(`lane:${tenantId}:live:device:truck-lease`);
		const tenant = leaseOf(`lane:${tenantId}:live:tenant`);
		const at = Date.now();
		expect(device?.units).toBeGreaterThan(0);
		expect(device?.expiresAt ?? 0).toBeGreaterThan(at + 5_000);
		expect(device?.expiresAt ?? 0).toBeLessThanOrEqual(at + DEVICE_LEASE_TTL_MS);
		expect(tenant?.expiresAt ?? 0).toBeGreaterThan(at);
		expect(tenant?.expiresAt ?? 0).toBeLessThanOrEqual(at + 3_000);
	});

	it("never admits more than the device's budget however the lease is held", async () => {
		const tenantId = `ten_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
		const now = Date.now();
		const meta = { v: 1 as const, tenant_id: tenantId, received_at: now, colo: null, country: null };
		// 600 points a minute per device (10/s), a burst of 600: six requests of 100 points, then
		// refusals (a refill of 100 points takes 10 s, far longer than this test).
		const limits = { live: { device: 600, tenant: 60_000 }, backfill: { device: 600, tenant: 60_000 } };
		const outcomes: boolean[] = [];
		for (let i = 0; i < 12; i++) {
			const batch = Array.from({ length: 100 }, (_, j) => ({
				truck_id: "t",
				lat: 1,
				lng: 2,
				speed_kmh: null,
				heading: null,
				recorded_at: now + i * 100 + j,
			}));
			const messages = locationMessages(meta, batch, now - 600_000, () => crypto.randomUUID());
			outcomes.push((await takeTokens(env.RATE_LIMITER, laneTargets(tenantId, messages, limits))).allowed);
		}
		expect(outcomes).toEqual([...Array<boolean>(6).fill(true), ...Array<boolean>(6).fill(false)]);
	});

	it("asks for a lease that lasts at the device's pace from its second call, not doubling up from 1", async () => {
		const tenantId = `ten_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
		const now = Date.now();
		const meta = { v: 1 as const, tenant_id: tenantId, received_at: now, colo: null, country: null };
		// 600 points a minute per device: the object grants a lease at most 10 % of that (60 units).
		const limits = { live: { device: 600, tenant: 60_000 }, backfill: { device: 600, tenant: 60_000 } };
		const take = (i: number) =>
			takeTokens(
				env.RATE_LIMITER,
				laneTargets(
					tenantId,
					locationMessages(
						meta,
						[{ truck_id: "paced", lat: 1, lng: 2, speed_kmh: null, heading: null, recorded_at: now + i }],
						now - 600_000,
						() => crypto.randomUUID(),
					),
					limits,
				),
			);
		expect((await take(0)).allowed).toBe(true);
		expect(leaseOf(`lane:${tenantId}:live:device:paced`)?.units).toBe(0);
		// One point per 50 ms is 160 points per 8 s lease: the second call asks for that and gets the
		// object's cap. Asking only twice what was spent got 2 units here, and a call per few points.
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect((await take(1)).allowed).toBe(true);
		const lease = leaseOf(`lane:${tenantId}:live:device:paced`);
		expect(lease?.units).toBeGreaterThanOrEqual(50);
		expect(lease?.units).toBeLessThanOrEqual(60);
	});
});
