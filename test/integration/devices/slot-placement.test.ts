import { describe, expect, it } from "vitest";
import { DEFAULT_REPORT_WINDOW, slotOffsetSeconds } from "../../../src/devices/slots/domain";
import { shapeFleet } from "../../../src/devices/slots/fleet-shape";
import { localDateAt } from "../../../src/platform/time-zones";
import { call, createTenant, json } from "../helpers";

const ZONES = ["Asia/Tokyo", "Europe/Berlin", "Asia/Tokyo", "America/New_York", "Asia/Tokyo", "Europe/Berlin"];

describe("report slots by registration rank", () => {
	it("places each machine by its rank in its zone through the fleet's whole-device plan, as the simulator does", async () => {
		const { tenantId, apiKey } = await createTenant();
		const devices = ZONES.map((timezone, i) => ({ device_id: `vm-${i}`, kind: "vending", timezone, city: "c" }));
		expect((await call("POST", "/api/v1/devices/bulk", { token: apiKey, body: { devices } })).status).toBe(201);
		const counts = new Map<string, number>();
		for (const z of ZONES) counts.set(z, (counts.get(z) ?? 0) + 1);
		const seen = new Map<string, number>();
		const offsets = new Set<number>();
		for (const [i, timezone] of ZONES.entries()) {
			const rank = seen.get(timezone) ?? 0;
			seen.set(timezone, rank + 1);
			const res = await call("GET", `/api/v1/devices/vm-${i}/schedule`, { token: apiKey });
			expect(res.status).toBe(200);
			const body = await json(res);
			const night = localDateAt(timezone, Date.parse(String(body.next_report_at)) - 1000);
			const fleet = shapeFleet(
				[...counts].map(([tz, count]) => ({ timezone: tz, count })),
				DEFAULT_REPORT_WINDOW,
				night,
			);
			const expected = slotOffsetSeconds(
				{ tenantId, deviceId: `vm-${i}`, rank },
				DEFAULT_REPORT_WINDOW,
				fleet.plans.get(timezone),
			);
			expect(body.slot_offset_seconds, `vm-${i}`).toBe(expected);
			if (timezone === "Asia/Tokyo") offsets.add(Number(body.slot_offset_seconds));
		}
		// Three machines of one zone: three different seats.
		expect(offsets.size).toBe(3);
	});

	it("answers 404 for another tenant's machine", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const body = { devices: [{ device_id: "vm-a", kind: "vending", timezone: "Asia/Tokyo", city: "c" }] };
		expect((await call("POST", "/api/v1/devices/bulk", { token: a.apiKey, body })).status).toBe(201);
		expect((await call("GET", "/api/v1/devices/vm-a/schedule", { token: b.apiKey })).status).toBe(404);
	});
});
