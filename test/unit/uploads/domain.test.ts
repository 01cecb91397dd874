import { describe, expect, it } from "vitest";
import {
	parseByteCount,
	parseChecksum,
	parseMetadata,
	partSizeFor,
	R2_MAX_PARTS,
	R2_MIN_PART_BYTES,
	stagingKey,
} from "../../../src/uploads/domain";

const MIB = 1024 * 1024;

describe("partSizeFor", () => {
	it("uses R2's 5 MiB minimum for uploads up to ~45 GB", () => {
		expect(partSizeFor(0)).toBe(R2_MIN_PART_BYTES);
		expect(partSizeFor(12 * MIB)).toBe(5 * MIB);
		expect(partSizeFor(45 * 10 ** 9)).toBe(5 * MIB);
	});

	it("grows in whole MiB so the largest uploads stay within R2's 10,000 parts", () => {
		for (const length of [50 * 2 ** 30, 500 * 2 ** 30, 4.9 * 2 ** 40]) {
			const size = partSizeFor(length);
			expect(size % MIB).toBe(0);
			expect(Math.ceil(length / size)).toBeLessThanOrEqual(R2_MAX_PARTS);
		}
		expect(partSizeFor(50 * 2 ** 30)).toBe(6 * MIB);
	});
});

describe("tus headers", () => {
	it("reads byte counts and rejects anything else", () => {
		expect(parseByteCount("0")).toBe(0);
		expect(parseByteCount(" 1024 ")).toBe(1024);
		for (const bad of [undefined, "", "-1", "1.5", "01", "1e3", "99999999999999999"])
			expect(parseByteCount(bad)).toBeNull();
	});

	it("decodes Upload-Metadata pairs, keys without values, and UTF-8", () => {
		expect(parseMetadata(undefined)).toEqual({});
		expect(parseMetadata(`filename ${btoa("a b.mp4")},filetype ${btoa("video/mp4")},is_confidential`)).toEqual({
			filename: "a b.mp4",
			filetype: "video/mp4",
			is_confidential: "",
		});
		expect(parseMetadata(`name ${btoa(String.fromCharCode(0xc3, 0xa9))}`)).toEqual({ name: "é" });
	});

	it("rejects malformed Upload-Metadata", () => {
		for (const bad of ["filename not-base64!", `a ${btoa("x")},a ${btoa("y")}`, "a b c", `name ${btoa("\xff")}`]) {
			expect(parseMetadata(bad)).toBeNull();
		}
	});

	it("reads Upload-Checksum for sha1 and sha256, and tells unsupported algorithms apart", () => {
		const sha1 = btoa("x".repeat(20));
		expect(parseChecksum(`sha1 ${sha1}`)).toEqual({ algorithm: "sha1", digest: new Uint8Array(20).fill(120) });
		expect(parseChecksum(`sha256 ${btoa("y".repeat(32))}`)).toMatchObject({ algorithm: "sha256" });
		expect(parseChecksum(`md5 ${btoa("z".repeat(16))}`)).toBe("unsupported");
		expect(parseChecksum(`sha256 ${sha1}`)).toBeNull();
		expect(parseChecksum("sha1")).toBeNull();
	});
});

it("keys each staged remainder by the offset it ends at", () => {
	expect(stagingKey("upl_1", 42)).toBe("staging/upl_1/42");
});
