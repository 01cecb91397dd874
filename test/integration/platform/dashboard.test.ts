import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("dashboard (static assets)", () => {
	it("serves the page and its script from public/", async () => {
		const page = await env.ASSETS.fetch("http://floodgate.test/");
		expect(page.status).toBe(200);
		const html = await page.text();
		expect(html).toContain("<title>Floodgate dashboard</title>");
		expect(html).toContain('src="/dashboard.js"');
		const script = await env.ASSETS.fetch("http://floodgate.test/dashboard.js");
		expect(script.status).toBe(200);
		expect(await script.text()).toContain("/api/v1/stats");
	});
});
