import { describe, expect, it } from "vitest";
import { cacheUrl, requestBypassReason, storableTtl, varyNames, variantText } from "../../../src/apigw/cache-policy";

const h = (init: Record<string, string>) => new Headers(init);

describe("gateway cache policy", () => {
	it("serves only plain GETs from the cache", () => {
		expect(requestBypassReason("GET", h({}))).toBeNull();
		expect(requestBypassReason("POST", h({}))).toBe("method");
		expect(requestBypassReason("GET", h({ "Cache-Control": "no-cache" }))).not.toBeNull();
		expect(requestBypassReason("GET", h({ Authorization: "Bearer x" }))).toBe("credentials");
	});

	it("stores 200s for s-maxage, else max-age, else the route's ttl", () => {
		expect(storableTtl(200, h({ "Cache-Control": "max-age=60, s-maxage=5" }), 30)).toBe(5);
		expect(storableTtl(200, h({ "Cache-Control": "public, max-age=60" }), 30)).toBe(60);
		expect(storableTtl(200, h({}), 30)).toBe(30);
		expect(storableTtl(200, h({ "Cache-Control": "max-age=999999" }), 30)).toBe(86_400);
	});

	it("never stores no-store, private, max-age=0, Set-Cookie, Vary: * or non-200 answers", () => {
		expect(storableTtl(200, h({ "Cache-Control": "no-store" }), 30)).toBeNull();
		expect(storableTtl(200, h({ "Cache-Control": "private, max-age=60" }), 30)).toBeNull();
		expect(storableTtl(200, h({ "Cache-Control": "max-age=0" }), 30)).toBeNull();
		expect(storableTtl(200, h({ "Set-Cookie": "a=b" }), 30)).toBeNull();
		expect(storableTtl(200, h({ Vary: "Accept, *" }), 30)).toBeNull();
		expect(storableTtl(404, h({}), 30)).toBeNull();
	});

	it("names a variant by the varied headers' values, telling absent from empty", () => {
		expect(varyNames(h({ Vary: "Accept-Language, accept, Accept" }))).toEqual(["accept", "accept-language"]);
		const names = ["accept-language"];
		expect(variantText(names, h({ "Accept-Language": "fr" }))).not.toBe(
			variantText(names, h({ "Accept-Language": "de" })),
		);
		expect(variantText(names, h({}))).not.toBe(variantText(names, h({ "Accept-Language": "" })));
	});

	it("keys answers per tenant, route and route version", () => {
		const a = cacheUrl("ten_a", { name: "r", version: 1 }, "/x", "?q=1");
		expect(cacheUrl("ten_b", { name: "r", version: 1 }, "/x", "?q=1")).not.toBe(a);
		expect(cacheUrl("ten_a", { name: "r", version: 2 }, "/x", "?q=1")).not.toBe(a);
		expect(cacheUrl("ten_a", { name: "r", version: 1 }, "/x", "?q=2")).not.toBe(a);
	});
});
