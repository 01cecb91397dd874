import { AppError } from "../platform/errors";
import { parseRange } from "../uploads/domain";

export type StoredObject = { key: string; size: number; contentType: string; filename?: string };

/**
 * An R2 object streamed to the client: whole (200) or one `Range` (206), with Accept-Ranges and
 * its ETag (If-None-Match → 304); 416 for a range past the end. Never buffered.
 */
export async function objectResponse(
	bucket: R2Bucket,
	stored: StoredObject,
	rangeHeader: string | undefined,
	ifNoneMatch: string | undefined,
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
	if (!object) throw new AppError(404, "object_missing", "The object is gone.");
	const headers = new Headers({
		"Accept-Ranges": "bytes",
		ETag: object.httpEtag,
		"Content-Type": stored.contentType,
		"Cache-Control": "private, no-cache",
	});
	if (stored.filename) headers.set("Content-Disposition", `inline; filename="${stored.filename}"`);
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
