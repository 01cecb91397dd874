import { describe, expect, it } from "vitest";
import { jsonDepthExceeds } from "../../../src/platform/body-limit";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("jsonDepthExceeds", () => {
	it("counts arrays and objects nested inside each other", () => {
		expect(jsonDepthExceeds(bytes('{"a":[{"b":[1]}]}'), 4)).toBe(false);
		expect(jsonDepthExceeds(bytes('{"a":[{"b":[[1]]}]}'), 4)).toBe(true);
		expect(jsonDepthExceeds(bytes("[".repeat(200_000)), 64)).toBe(true);
	});

	it("counts siblings once, not their sum", () => {
		expect(jsonDepthExceeds(bytes(JSON.stringify(Array.from({ length: 1000 }, () => [[1]]))), 3)).toBe(false);
	});

	it("ignores brackets inside strings, escaped quotes included", () => {
		expect(jsonDepthExceeds(bytes(JSON.stringify({ s: "[[[[{{{{", t: 'a\\"[[[[' })), 1)).toBe(false);
	});

	it("never goes negative on stray closers", () => {
		expect(jsonDepthExceeds(bytes("]]]]][[["), 2)).toBe(true);
		expect(jsonDepthExceeds(bytes("]]]]][["), 2)).toBe(false);
	});
});
