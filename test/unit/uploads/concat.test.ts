import { describe, expect, it } from "vitest";
import { MAX_CONCAT_PARTS, parseConcat } from "../../../src/uploads/domain";
import { slicesOf } from "../../../src/platform/r2-object";

const A = "upl_aaaaaaaaaaaaaaaaaaaaaaaa";
const B = "upl_bbbbbbbbbbbbbbbbbbbbbbbb";
const BASE = "https://floodgate.example/api/v1/uploads";

describe("Upload-Concat", () => {
	it("reads partial, and final with paths or absolute URLs in order", () => {
		expect(parseConcat("partial", BASE)).toEqual({ kind: "partial" });
		expect(parseConcat(`final;/api/v1/uploads/${B} ${BASE}/${A}`, BASE)).toEqual({ kind: "final", ids: [B, A] });
		expect(parseConcat(`final; /api/v1/uploads/${A}  /api/v1/uploads/${B} `, BASE)).toEqual({
			kind: "final",
			ids: [A, B],
		});
	});

	it("refuses what is not a list of distinct upload URLs", () => {
		for (const bad of [
			"",
			"final",
			"final;",
			"partial;x",
			`final;/api/v1/uploads/${A} /api/v1/uploads/${A}`,
			`final;/api/v1/jobs/${A}`,
			"final;/api/v1/uploads/upl_short",
			`final;${Array.from({ length: MAX_CONCAT_PARTS + 1 }, (_, i) => `/api/v1/uploads/upl_${String(i).padStart(24, "0")}`).join(" ")}`,
		])
			expect(parseConcat(bad, BASE), bad).toBeNull();
	});
});

describe("slices of a composed object", () => {
	const parts = [
		{ key: "a", size: 10, etag: "1" },
		{ key: "b", size: 0, etag: "2" },
		{ key: "c", size: 5, etag: "3" },
	];

	it("covers a range across part boundaries with one piece per part touched, empty parts skipped", () => {
		expect(slicesOf(parts, 8, 4)).toEqual([
			{ key: "a", offset: 8, length: 2 },
			{ key: "c", offset: 0, length: 2 },
		]);
		expect(slicesOf(parts, 0, 15)).toEqual([
			{ key: "a", offset: 0, length: 10 },
			{ key: "c", offset: 0, length: 5 },
		]);
		expect(slicesOf(parts, 10, 1)).toEqual([{ key: "c", offset: 0, length: 1 }]);
		expect(slicesOf(parts, 3, 2)).toEqual([{ key: "a", offset: 3, length: 2 }]);
	});
});
