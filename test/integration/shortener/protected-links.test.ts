import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";
import { create, errorCode, mustCreate, visit, waitForClicks } from "./links-helpers";

function form(password: string): string {
	return new URLSearchParams({ password }).toString();
}

describe("password-protected links", () => {
	it("stores only an Argon2id hash and answers protected: true, never the password", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/secret", password: "open sesame" });
		expect(link.protected).toBe(true);
		expect(JSON.stringify(link)).not.toContain("open sesame");
		const row = await env.DB.prepare("SELECT password_hash FROM links WHERE slug = ?")
			.bind(link.slug)
			.first<{ password_hash: string }>();
		expect(row?.password_hash).toMatch(/^\$argon2id\$/);
		expect(row?.password_hash).not.toContain("open sesame");
		expect((await create(apiKey, { url: "https://example.com/", password: "" })).status).toBe(400);
		expect((await create(apiKey, { url: "https://example.com/", password: "x".repeat(129) })).status).toBe(400);
	});

	it("answers the form (200, no-store, its own CSP) and hides the destination, even from ?preview", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/hidden-target", password: "pw-1234" });
		for (const query of ["", "?preview=true"]) {
			const res = await visit(link.slug, { query });
			expect(res.status).toBe(200);
			expect(res.headers.get("Location")).toBeNull();
			expect(res.headers.get("Content-Type")).toContain("text/html");
			expect(res.headers.get("Cache-Control")).toBe("no-store");
			expect(res.headers.get("Content-Security-Policy")).toContain("form-action 'self'");
			expect(res.headers.get("X-Frame-Options")).toBe("DENY");
			const html = await res.text();
			expect(html).toContain(`action="/s/${link.slug}"`);
			expect(html).toContain('name="password"');
			expect(html).not.toContain("hidden-target");
		}
	});

	it("answers 401 with the form for a wrong password and 303 no-store for the right one; only that counts a click", async () => {
		const { apiKey } = await createTenant();
		const link = await mustCreate(apiKey, { url: "https://example.com/in", password: "right-one", permanent: true });
		const wrong = await visit(link.slug, { form: form("wrong-one"), headers: { "CF-Connecting-IP": "198.51.100.31" } });
		expect(wrong.status).toBe(401);
		expect(wrong.headers.get("Cache-Control")).toBe("no-store");
		expect(await wrong.text()).toContain("not right");
		const right = await visit(link.slug, { form: form("right-one"), headers: { "CF-Connecting-IP": "198.51.100.31" } });
		expect(right.status).toBe(303);
		expect(right.headers.get("Location")).toBe("https://example.com/in");
		expect(right.headers.get("Cache-Control")).toBe("no-store");
		expect(await waitForClicks(apiKey, link.slug, 1)).toBe(1);
		const missing = await visit(link.slug, { form: "nothing=here" });
		expect(missing.status).toBe(400);
		const huge = await visit(link.slug, { form: form("x".repeat(5000)) });
		expect(huge.status).toBe(413);
		expect(await errorCode(huge)).toBe("payload_too_large");
	});

	// Each attempt costs one Argon2id verification (~1 s in a loaded local workerd), hence the longer timeout.
	it(
		"limits password attempts per client IP with 429 and Retry-After; another IP may still try",
		{ timeout: 60_000 },
		async () => {
			const { apiKey } = await createTenant();
			const link = await mustCreate(apiKey, { url: "https://example.com/guess", password: "correct horse" });
			const ip = { "CF-Connecting-IP": "198.51.100.44" };
			const statuses: number[] = [];
			for (let i = 0; i < 12; i++) {
				const res = await visit(link.slug, { form: form(`guess-${i}`), headers: ip });
				statuses.push(res.status);
				if (res.status === 429) {
					expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
					expect(await errorCode(res)).toBe("rate_limited");
					break;
				}
			}
			expect(statuses.slice(0, 10)).toEqual(Array.from({ length: 10 }, () => 401));
			expect(statuses.at(-1)).toBe(429);
			// Even the right password waits out the limit from that IP.
			expect((await visit(link.slug, { form: form("correct horse"), headers: ip })).status).toBe(429);
			const other = await visit(link.slug, {
				form: form("correct horse"),
				headers: { "CF-Connecting-IP": "198.51.100.45" },
			});
			expect(other.status).toBe(303);
		},
	);

	it("adds, changes and removes the password by PATCH; another tenant gets 404", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const link = await mustCreate(a.apiKey, { url: "https://example.com/open" });
		expect((await visit(link.slug)).status).toBe(302);
		const path = `/api/v1/links/${link.slug}`;
		expect((await call("PATCH", path, { token: b.apiKey, body: { password: "mine" } })).status).toBe(404);
		const locked = await call("PATCH", path, { token: a.apiKey, body: { password: "now-locked" } });
		expect(await locked.json()).toMatchObject({ protected: true });
		expect((await visit(link.slug)).status).toBe(200);
		expect((await visit(link.slug, { form: form("now-locked") })).status).toBe(303);
		const open = await call("PATCH", path, { token: a.apiKey, body: { password: null } });
		expect(await open.json()).toMatchObject({ protected: false });
		expect((await visit(link.slug)).status).toBe(302);
	});

	it("answers 404 and 410 to a form post for an unknown or deleted link", async () => {
		const { apiKey } = await createTenant();
		expect((await visit("Unknown9", { form: form("x") })).status).toBe(404);
		const link = await mustCreate(apiKey, { url: "https://example.com/del", password: "pw" });
		expect((await call("DELETE", `/api/v1/links/${link.slug}`, { token: apiKey })).status).toBe(200);
		const gone = await visit(link.slug, { form: form("pw") });
		expect(gone.status).toBe(410);
		expect(await errorCode(gone)).toBe("link_gone");
	});
});
