import { describe, expect, it } from "vitest";
import {
	ClickBuffer,
	clickMessageSchema,
	clicksPerSlug,
	countryCode,
	deviceClass,
	referrerHost,
} from "../../../src/shortener/clicks";

describe("deviceClass", () => {
	it.each([
		["Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148", "mobile"],
		["Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120.0 Mobile Safari/537.36", "mobile"],
		["Mozilla/5.0 (Linux; Android 13; SM-X700) Chrome/120.0 Safari/537.36", "tablet"],
		["Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)", "tablet"],
		["Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36", "desktop"],
		["Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15", "desktop"],
		["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot"],
		["facebookexternalhit/1.1", "bot"],
		["curl/8.4.0", "bot"],
		["Mozilla/5.0 HeadlessChrome/120.0", "bot"],
		["", "bot"],
	])("%s → %s", (ua, want) => {
		expect(deviceClass(ua)).toBe(want);
	});

	it("calls a missing User-Agent a bot", () => {
		expect(deviceClass(null)).toBe("bot");
	});
});

describe("referrerHost and countryCode", () => {
	it("keeps only the Referer's host, lower-cased; (direct) otherwise", () => {
		expect(referrerHost("https://News.Example.com/path?q=private")).toBe("news.example.com");
		expect(referrerHost(null)).toBe("(direct)");
		expect(referrerHost("not a url")).toBe("(direct)");
		expect(referrerHost("android-app://com.example")).toBe("(direct)");
	});

	it("upper-cases a two-letter country and calls the rest XX", () => {
		expect(countryCode("de")).toBe("DE");
		expect(countryCode(undefined)).toBe("XX");
		expect(countryCode("Germany")).toBe("XX");
	});
});

describe("ClickBuffer", () => {
	const click = { slug: "a", day: "2026-01-01", country: "DE", referrer: "(direct)", device: "mobile" } as const;

	it("aggregates identical clicks, tracks per-slug pending counts and hands out bounded batches", () => {
		const buffer = new ClickBuffer();
		buffer.add(click);
		buffer.add(click);
		buffer.add({ ...click, device: "desktop" });
		buffer.add({ ...click, slug: "ab" });
		expect(buffer.pending("a")).toBe(3);
		expect(buffer.pending("ab")).toBe(1);
		const first = buffer.take(2);
		expect(first).toEqual([
			{ ...click, n: 2 },
			{ ...click, device: "desktop", n: 1 },
		]);
		expect(clicksPerSlug(first)).toEqual(new Map([["a", 3]]));
		expect(buffer.pending("a")).toBe(0);
		expect(buffer.size).toBe(1);
		expect(buffer.take(10)).toEqual([{ ...click, slug: "ab", n: 1 }]);
		expect(buffer.take(10)).toEqual([]);
	});
});

describe("clickMessageSchema", () => {
	const entry = { slug: "abc", day: "2026-01-01", country: "DE", referrer: "x.example", device: "bot", n: 1 };

	it("accepts 1-200 entries and refuses more, none, or unknown fields", () => {
		const id = crypto.randomUUID();
		expect(clickMessageSchema.safeParse({ id, entries: [entry] }).success).toBe(true);
		expect(clickMessageSchema.safeParse({ id, entries: Array.from({ length: 200 }, () => entry) }).success).toBe(true);
		expect(clickMessageSchema.safeParse({ id, entries: Array.from({ length: 201 }, () => entry) }).success).toBe(false);
		expect(clickMessageSchema.safeParse({ id, entries: [] }).success).toBe(false);
		expect(clickMessageSchema.safeParse({ id, entries: [{ ...entry, extra: 1 }] }).success).toBe(false);
		expect(clickMessageSchema.safeParse({ id, entries: [{ ...entry, device: "fridge" }] }).success).toBe(false);
	});
});
