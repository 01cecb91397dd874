import { describe, expect, it } from "vitest";
import { parseRange } from "../../../src/platform/r2-object";

describe("parseRange", () => {
	it("reads one byte range, open-ended and suffix ranges included", () => {
		expect(parseRange("bytes=0-99", 1000)).toEqual({ offset: 0, length: 100 });
		expect(parseRange("bytes=900-", 1000)).toEqual({ offset: 900, length: 100 });
		expect(parseRange("bytes=-10", 1000)).toEqual({ offset: 990, length: 10 });
		expect(parseRange("bytes=990-5000", 1000)).toEqual({ offset: 990, length: 10 });
		expect(parseRange("bytes=-5000", 1000)).toEqual({ offset: 0, length: 1000 });
	});

	it("answers unsatisfiable past the end, and the whole object for what it ignores", () => {
		expect(parseRange("bytes=1000-", 1000)).toBe("unsatisfiable");
		expect(parseRange("bytes=-0", 1000)).toBe("unsatisfiable");
		expect(parseRange(undefined, 1000)).toBeNull();
		expect(parseRange("bytes=0-1,5-6", 1000)).toBeNull();
		expect(parseRange("bytes=50-10", 1000)).toBeNull();
		expect(parseRange("items=0-1", 1000)).toBeNull();
	});
});
