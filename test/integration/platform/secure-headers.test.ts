import { describe, expect, it } from "vitest";
import { call } from "../helpers";

function expectSecureHeaders(res: Response, label: string): void {
	const csp = res.headers.get("Content-Security-Policy") ?? "";
	expect(csp, label).toContain("default-src 'none'");
	expect(csp, label).toContain("frame-ancestors 'none'");
	expect(res.headers.get("X-Content-Type-Options"), label).toBe("nosniff");
	expect(res.headers.get("Referrer-Policy"), label).toBe("no-referrer");
	expect(res.headers.get("X-Frame-Options"), label).toBe("DENY");
	expect(res.headers.get("Strict-Transport-Security"), label).toMatch(/^max-age=\d+; includeSubDomains$/);
	expect(res.headers.get("Cross-Origin-Opener-Policy"), label).toBe("same-origin");
}

describe("secure headers on the API", () => {
	it("come with successes, errors and unknown paths alike", async () => {
		const health = await call("GET", "/api/v1/health");
		expect(health.status).toBe(200);
		expectSecureHeaders(health, "health");

		const unauthorized = await call("GET", "/api/v1/whoami");
		expect(unauthorized.status).toBe(401);
		expectSecureHeaders(unauthorized, "401");

		const missing = await call("GET", "/api/v1/nothing-here");
		expect(missing.status).toBe(404);
		expectSecureHeaders(missing, "404");

		const wrongType = await call("POST", "/api/v1/echo", { body: "x", headers: { "Content-Type": "text/plain" } });
		expect(wrongType.status).toBe(415);
		expectSecureHeaders(wrongType, "415");
	});
});
