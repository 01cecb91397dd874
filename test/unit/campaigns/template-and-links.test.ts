import { describe, expect, it } from "vitest";
import { renderHtml, renderText, templateError } from "../../../src/campaigns/template";
import { unsubscribeToken, unsubscribeUrl, verifyUnsubscribeToken } from "../../../src/campaigns/unsubscribe";
import { retryAfterMs } from "../../../src/email/resend";
import { jsonChunks } from "../../../src/platform/sql-db";

const vars = {
	first_name: "<Jo & Co>",
	last_name: "",
	email: "jo@example.com",
	unsubscribe_url: "https://x.test/u/t?a=1&b=2",
};

describe("templates", () => {
	it("escapes HTML in html bodies and leaves text bodies plain", () => {
		expect(renderHtml('<p>{{first_name}}</p><a href="{{unsubscribe_url}}">', vars)).toBe(
			'<p>&lt;Jo &amp; Co&gt;</p><a href="https:&#x2F;&#x2F;x.test&#x2F;u&#x2F;t?a&#x3D;1&amp;b&#x3D;2">',
		);
		expect(renderText("Hi {{first_name}} {{unsubscribe_url}}", vars)).toBe("Hi <Jo & Co> https://x.test/u/t?a=1&b=2");
		expect(renderText("{{#first_name}}x{{/first_name}}{{missing}}", vars)).toBe("x");
	});

	it("reports unparseable templates", () => {
		expect(templateError("Hi {{first_name}}")).toBeNull();
		expect(templateError("{{#open}}")).toMatch(/Unclosed section/);
	});
});

describe("unsubscribe links", () => {
	it("verifies its own tokens and refuses tampered or foreign ones", async () => {
		const target = { tenantId: "ten_abc", campaignId: "cmp_def", subscriberId: 17 };
		const token = await unsubscribeToken("secret-1", target);
		expect(await verifyUnsubscribeToken("secret-1", token)).toEqual(target);
		expect(await verifyUnsubscribeToken("secret-2", token)).toBeNull();
		expect(await verifyUnsubscribeToken("secret-1", token.replace(".17.", ".18."))).toBeNull();
		expect(await verifyUnsubscribeToken("secret-1", "a.b.c")).toBeNull();
		expect(await verifyUnsubscribeToken("secret-1", `${token}0`)).toBeNull();
		expect(unsubscribeUrl("https://mail.example.com/", token)).toBe(`https://mail.example.com/u/${token}`);
	});
});

describe("provider helpers", () => {
	it("reads Retry-After as seconds or an HTTP date, else ratelimit-reset", () => {
		expect(retryAfterMs(new Headers({ "retry-after": "2.5" }))).toBe(2500);
		expect(retryAfterMs(new Headers({ "retry-after": new Date(61_000).toUTCString() }), 1_000)).toBe(60_000);
		expect(retryAfterMs(new Headers({ "ratelimit-reset": "3" }))).toBe(3000);
		expect(retryAfterMs(new Headers({ "retry-after": "soon" }))).toBeNull();
		expect(retryAfterMs(new Headers())).toBeNull();
	});

	it("splits rows into JSON arrays under the D1 statement size", () => {
		const rows = Array.from({ length: 3000 }, (_, i) => ({
			email: `user${i}@example.com`,
			first_name: "x".repeat(40),
		}));
		const chunks = jsonChunks(rows);
		expect(chunks.length).toBeGreaterThan(1);
		expect(chunks.every((c) => c.length < 80_000)).toBe(true);
		expect(chunks.flatMap((c) => JSON.parse(c) as unknown[])).toEqual(rows);
		expect(jsonChunks([])).toEqual([]);
	});
});
