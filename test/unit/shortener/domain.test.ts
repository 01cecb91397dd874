import { describe, expect, it } from "vitest";
import {
	checkLinkDestination,
	decodeCursor,
	encodeCursor,
	generateSlug,
	linkState,
	SLUG_ALPHABET,
} from "../../../src/shortener/domain";

const POLICY = { allowLoopbackHttp: false, ownHosts: ["short.example"] };
const LIVE = { expiresAt: null, maxClicks: null, clicks: 0, deletedAt: null };

describe("generateSlug", () => {
	it("makes 7 base62 characters", () => {
		for (let i = 0; i < 100; i++) expect(generateSlug()).toMatch(/^[0-9A-Za-z]{7}$/);
	});

	it("skips bytes at or above 248 so every character is equally likely", () => {
		const bytes = [255, 248, 0, 61, 62, 247, 1, 2, 3, 4, 5, 6, 7, 8];
		expect(generateSlug(() => Uint8Array.from(bytes))).toBe(`0z0${SLUG_ALPHABET[247 % 62]}123`);
	});

	it("draws again when a draw yields too few usable bytes", () => {
		let call = 0;
		const source = (n: number) => (call++ === 0 ? new Uint8Array(n).fill(250) : new Uint8Array(n).fill(10));
		expect(generateSlug(source)).toBe("AAAAAAA");
	});
});

describe("checkLinkDestination", () => {
	it("accepts public http and https", () => {
		expect(checkLinkDestination("http://example.com/a", POLICY)).toEqual({ ok: true, url: "http://example.com/a" });
		expect(checkLinkDestination("https://example.com", POLICY)).toEqual({ ok: true, url: "https://example.com/" });
	});

	it("refuses other schemes, private and loopback hosts, and the platform itself", () => {
		for (const url of [
			"data:text/html,x",
			"file:///etc/passwd",
			"http://192.168.1.1/",
			"http://0x7f.1/",
			"https://short.example/s/x",
			"nonsense",
		]) {
			expect(checkLinkDestination(url, POLICY).ok, url).toBe(false);
		}
	});
});

describe("linkState", () => {
	it("is active, expired, exhausted (counting pending clicks) or deleted", () => {
		expect(linkState(LIVE, 1000)).toBe("active");
		expect(linkState({ ...LIVE, expiresAt: 1000 }, 1000)).toBe("expired");
		expect(linkState({ ...LIVE, maxClicks: 3, clicks: 2 }, 0)).toBe("active");
		expect(linkState({ ...LIVE, maxClicks: 3, clicks: 2 }, 0, 1)).toBe("exhausted");
		expect(linkState({ ...LIVE, deletedAt: 5, expiresAt: 1 }, 10)).toBe("deleted");
	});
});

describe("cursors", () => {
	it("round-trip and reject garbage", () => {
		expect(decodeCursor(encodeCursor(1700000000000, "abc_1"))).toEqual({ createdAt: 1700000000000, slug: "abc_1" });
		expect(decodeCursor("x.abc")).toBeNull();
		expect(decodeCursor("12.a")).toBeNull();
	});
});
