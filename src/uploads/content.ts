import { AppError } from "../platform/errors";
import type { UploadRow } from "./db";
import { parseRange } from "./domain";

/**
 * A finished upload's bytes from R2, streamed: the whole object (200) or one `Range` (206), with
 * Accept-Ranges and the object's ETag (If-None-Match → 304). 416 for a range past the end.
 */
export async function contentResponse(
	bucket: R2Bucket,
	row: UploadRow,
	rangeHeader: string | undefined,
	ifNoneMatch: string | undefined,
): Promise<Response> {
	const size = row.length ?? 0;
	const range = parseRange(rangeHeader, size);
	if (range === "unsatisfiable") {
		throw new AppError(
			416,
			"range_not_satisfiable",
			`The content is ${size} bytes long.`,
			{ size },
			{
				"Content-Range": `bytes */${size}`,
				"Accept-Ranges": "bytes",
			},
		);
	}
	const object = await bucket.get(row.r2_key, range ? { range } : {});
	if (!object) throw new AppError(404, "upload_content_missing", `The content of upload ${row.id} is gone.`);
	const headers = new Headers({
		"Accept-Ranges": "bytes",
		ETag: object.httpEtag,
		"Content-Type": row.filetype ?? "application/octet-stream",
		"Cache-Control": "private, no-cache",
	});
	if (row.filename)
		headers.set("Content-Disposition", `attachment; filename*=UTF-8''${encodeURIComponent(row.filename)}`);
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
