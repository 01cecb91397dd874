import { describe, expect, it } from "vitest";
import { call, createTenant, json } from "../helpers";

describe("smoke", () => {
	it("answers whoami for a fresh tenant", async () => {
		const { tenantId, apiKey } = await createTenant();
		const res = await call("GET", "/api/v1/whoami", { token: apiKey });
		expect(res.status).toBe(200);
		expect(await json(res)).toMatchObject({ tenant_id: tenantId });
		expect(res.headers.get("RateLimit-Policy")).toContain("tenant-burst");
	});
});
