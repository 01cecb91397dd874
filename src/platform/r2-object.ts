import { AppError } from "./errors";

/** An R2 object as an HTTP resource: where it is, how long, and how to present it. */
export type StoredObject = {
	key: string;
	size: number;
	contentType: string;
	filename?: string | null | undefined;
	/** `inline` (play in the browser) or `attachment` (download); the filename is RFC 5987-encoded. */
	disposition?: "inline" | "attachment";
};

/**
 * One `Range: bytes=…` of an object of `size` bytes: the range, "unsatisfiable" (416), or null to
 * answer the whole object (no header, several ranges, or a form we ignore, as RFC 9110 allows).
 */
export function parseRange(
	header: string | undefined,
	size: number,
): { offset: number; length: number } | "unsatisfiable" | null {
	const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
	if (!match) return null;
	const [, first = "", last = ""] = match;
	if (first === "" && last === "") return null;
	if (first === "") {
		const suffix = Number(last);
		if (suffix === 0 || size === 0) return "unsatisfiable";
		const length = Math.min(suffix, size);
		return { offset: size - length, length };
	}
	const offset = Number(first);
	if (offset >= size) return "unsatisfiable";
	const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
	if (end < offset) return null;
	return { offset, length: end - offset + 1 };
}

/**
 * An R2 object streamed to the client: whole (200) or one `Range` (206), with Accept-Ranges and
 * its ETag (If-None-Match → 304); 416 for a range past the end; 404 `missingCode` when R2 no longer
 * has it. Never buffered. Shared by finished uploads and recording artifacts.
 */
export async function objectResponse(
	bucket: R2Bucket,
	stored: StoredObject,
	rangeHeader: string | undefined,
	ifNoneMatch: string | undefined,
	missingCode = "object_missing",
): Promise<Response> {
	const range = parseRange(rangeHeader, stored.size);
	if (range === "unsatisfiable")
		throw new AppError(
			416,
			"range_not_satisfiable",
			`The object is ${stored.size} bytes long.`,
			{ size: stored.size },
			{ "Content-Range": `bytes */${stored.size}`, "Accept-Ranges": "bytes" },
		);
	const object = await bucket.get(stored.key, range ? { range } : {});
	if (!object) throw new AppError(404, missingCode, "The object is gone.");
	const headers = new Headers({
		"Accept-Ranges": "bytes",
		ETag: object.httpEtag,
		"Content-Type": stored.contentType,
		"Cache-Control": "private, no-cache",
	});
	if (stored.filename)
		headers.set(
			"Content-Disposition",
			`${stored.disposition ?? "attachment"}; filename*=UTF-8''${encodeURIComponent(stored.filename)}`,
		);
	if (ifNoneMatch !== undefined && ifNoneMatch === object.httpEtag) {
		await object.body.cancel();
		return new Response(null, { status: 304, headers });
	}
	if (!range) {
		headers.set("Content-Length", String(object.size));
		return new Response(object.body, { status: 200, headers });
	}
	headers.set("Content-Length", String(range.length));
	headers.set("Content-Range", `bytes ${range.offset}-${range.offset + range.length - 1}/${object.size}`);
	return new Response(object.body, { status: 206, headers });
}
