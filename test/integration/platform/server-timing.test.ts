import { describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";

// Server-Timing on the routes the benchmarks time end to end (whoami, location updates): the
// Worker's own share of a request, answered or refused, authentication and the limiter included.
const TIMING = /^total;dur=\d+(\.\d)?$/;

describe("Server-Timing", () => {
	it("says the Worker's own time on whoami and on a location update, accepted or refused", async () => {
		const { apiKey } = await createTenant();
		const whoami = await call("GET", "/api/v1/whoami", { token: apiKey });
		expect(whoami.status).toBe(200);
		expect(whoami.headers.get("Server-Timing")).toMatch(TIMING);

		const point = { truck_id: "timed", lat: 48.1, lng: 11.5, recorded_at: new Date().toISOString() };
		const accepted = await call("POST", "/api/v1/location/update", { token: apiKey, body: point });
		expect(accepted.status).toBe(202);
		expect(accepted.headers.get("Server-Timing")).toMatch(TIMING);

		const refused = await call("POST", "/api/v1/location/update", { token: apiKey, body: { ...point, lat: 91 } });
		expect(refused.status).toBe(400);
		expect(refused.headers.get("Server-Timing")).toMatch(TIMING);

		const unauthenticated = await call("GET", "/api/v1/whoami", {});
		expect(unauthenticated.status).toBe(401);
		expect(unauthenticated.headers.get("Server-Timing")).toMatch(TIMING);
	});

	it("is not on routes that do not time themselves", async () => {
		const { apiKey } = await createTenant();
		const res = await call("GET", "/api/v1/ratelimit", { token: apiKey });
		expect(res.headers.get("Server-Timing")).toBeNull();
	});
});
