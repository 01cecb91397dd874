import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("the /docs page", () => {
	it("loads Scalar and its configuration from the platform, with no inline script", async () => {
		const page = await env.ASSETS.fetch("http://floodgate.test/docs");
		expect(page.status).toBe(200);
		const html = await page.text();
		expect(html).toContain('src="/vendor/scalar-api-reference.js"');
		expect(html).toContain('src="/docs.js"');
		expect(html.match(/<script(?![^>]*\ssrc=)[^>]*>/g)).toBeNull();
		expect(html).not.toMatch(/https?:\/\//);
		const config = await env.ASSETS.fetch("http://floodgate.test/docs.js");
		expect(await config.text()).toContain("/api/v1/openapi.json");
		const bundle = await env.ASSETS.fetch("http://floodgate.test/vendor/scalar-api-reference.js");
		expect(bundle.status).toBe(200);
		expect(await bundle.text()).toContain("createApiReference");
	});
});
