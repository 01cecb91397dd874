import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("dashboard (static assets)", () => {
	it("serves the page and its script from public/", async () => {
		const page = await env.ASSETS.fetch("http://floodgate.test/");
		expect(page.status).toBe(200);
		const html = await page.text();
		expect(html).toContain("<title>Floodgate dashboard</title>");
		expect(html).toContain('<script type="module" src="/dashboard/main.js"></script>');
		const script = await env.ASSETS.fetch("http://floodgate.test/dashboard/main.js");
		expect(script.status).toBe(200);
		// Live updates by one SSE stream, not polling.
		expect(await script.text()).toContain('new EventSource("/api/v1/dashboard/stream")');
	});

	it("sends a strict Content-Security-Policy and the other secure headers with the page and its files (public/_headers)", async () => {
		for (const path of ["/", "/dashboard/main.js", "/dashboard/api.js", "/dashboard.css"]) {
			const res = await env.ASSETS.fetch(`http://floodgate.test${path}`);
			expect(res.status, path).toBe(200);
			const csp = res.headers.get("Content-Security-Policy") ?? "";
			expect(csp, path).toContain("default-src 'none'");
			expect(csp, path).toContain("script-src 'self'");
			expect(csp, path).toContain("style-src 'self'");
			expect(csp, path).toContain("frame-ancestors 'none'");
			expect(csp, path).not.toContain("unsafe-inline");
			expect(csp, path).not.toContain("unsafe-eval");
			expect(res.headers.get("X-Content-Type-Options"), path).toBe("nosniff");
			expect(res.headers.get("Referrer-Policy"), path).toBe("no-referrer");
			expect(res.headers.get("X-Frame-Options"), path).toBe("DENY");
			expect(res.headers.get("Strict-Transport-Security"), path).toMatch(/^max-age=\d+/);
			expect(res.headers.get("Cross-Origin-Opener-Policy"), path).toBe("same-origin");
		}
		// The rules file itself is configuration, not an asset.
		expect((await env.ASSETS.fetch("http://floodgate.test/_headers")).status).toBe(404);
	});

	it("has no inline script or style for the policy to block, and keeps no secret in web storage", async () => {
		const html = await (await env.ASSETS.fetch("http://floodgate.test/")).text();
		for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\bsrc="/);
		expect(html).not.toMatch(/<style\b|\sstyle="|\son[a-z]+="/i);
		// The login's HttpOnly session cookie is the only credential: no script stores a token.
		for (const file of ["main.js", "api.js", "lists.js", "charts.js", "dom.js"]) {
			const script = await (await env.ASSETS.fetch(`http://floodgate.test/dashboard/${file}`)).text();
			expect(script, file).not.toMatch(/localStorage\.|sessionStorage\./);
		}
	});
});
