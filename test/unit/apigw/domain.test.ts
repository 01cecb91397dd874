import { describe, expect, it } from "vitest";
import {
	coversPath,
	isRetryable,
	matchRoute,
	retryDelayMs,
	routeConfigSchema,
	upstreamUrl,
} from "../../../src/apigw/domain";

const routes = [
	{ name: "root", path_prefix: "/" },
	{ name: "api", path_prefix: "/api" },
	{ name: "v2", path_prefix: "/api/v2/" },
];

describe("route matching", () => {
	it("picks the longest prefix that covers the path", () => {
		expect(matchRoute(routes, "/api/v2/users")?.name).toBe("v2");
		expect(matchRoute(routes, "/api/v1/users")?.name).toBe("api");
		expect(matchRoute(routes, "/other")?.name).toBe("root");
	});

	it("matches on whole segments only", () => {
		expect(coversPath("/api", "/apix")).toBe(false);
		expect(coversPath("/api", "/api")).toBe(true);
		expect(coversPath("/api/", "/api")).toBe(true);
		expect(matchRoute(routes.slice(1), "/apix")).toBeNull();
	});
});

describe("upstream URLs", () => {
	it("keeps the path, or strips the prefix, under the upstream's base path, with the query", () => {
		const keep = { path_prefix: "/api", strip_prefix: false };
		const strip = { path_prefix: "/api", strip_prefix: true };
		expect(upstreamUrl("https://up.example/base/", keep, "/api/users", "?a=1")).toBe(
			"https://up.example/base/api/users?a=1",
		);
		expect(upstreamUrl("https://up.example", strip, "/api/users", "")).toBe("https://up.example/users");
		expect(upstreamUrl("https://up.example/v1", strip, "/api", "")).toBe("https://up.example/v1/");
	});
});

describe("retries", () => {
	it("retries idempotent methods, and others only with an Idempotency-Key", () => {
		for (const m of ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]) expect(isRetryable(m, false)).toBe(true);
		expect(isRetryable("POST", false)).toBe(false);
		expect(isRetryable("PATCH", false)).toBe(false);
		expect(isRetryable("POST", true)).toBe(true);
	});

	it("backs off exponentially within a ceiling", () => {
		expect(retryDelayMs(1, 0)).toBe(12);
		expect(retryDelayMs(1, 0.999)).toBeLessThanOrEqual(25);
		expect(retryDelayMs(2, 0)).toBe(25);
		expect(retryDelayMs(10, 0.999)).toBeLessThanOrEqual(200);
	});
});

describe("route configuration", () => {
	const base = { path_prefix: "/api", upstreams: [{ url: "https://up.example", weight: 1 }], auth: "none" };

	it("fills defaults", () => {
		const parsed = routeConfigSchema.parse(base);
		expect(parsed).toMatchObject({ strip_prefix: false, retries: 1, timeout_ms: 10_000 });
		expect(parsed.passive_health).toEqual({ failures: 3, window_seconds: 30, cooldown_seconds: 30 });
	});

	it("refuses reserved headers, too many upstreams and unknown fields", () => {
		expect(routeConfigSchema.safeParse({ ...base, headers: { Authorization: "x" } }).success).toBe(false);
		expect(routeConfigSchema.safeParse({ ...base, headers: { "X-Forwarded-For": "x" } }).success).toBe(false);
		expect(routeConfigSchema.safeParse({ ...base, headers: { "X-Tenant": "x" } }).success).toBe(true);
		const many = Array.from({ length: 17 }, (_, i) => ({ url: `https://u${i}.example`, weight: 1 }));
		expect(routeConfigSchema.safeParse({ ...base, upstreams: many }).success).toBe(false);
		expect(routeConfigSchema.safeParse({ ...base, extra: 1 }).success).toBe(false);
	});
});
