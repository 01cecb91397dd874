import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("the dashboard's campaign panel", () => {
	it("has a campaigns table whose rows the script fills with a progress bar from /api/v1/campaigns", async () => {
		const html = await (await env.ASSETS.fetch("http://floodgate.test/")).text();
		expect(html).toContain('<tbody id="campaign-rows"></tbody>');
		const script = await (await env.ASSETS.fetch("http://floodgate.test/dashboard.js")).text();
		expect(script).toContain('api("/api/v1/campaigns?limit=20")');
		expect(script).toMatch(/el\("progress", \{ max: "1", value: String\(c\.progress\)/);
	});
});
