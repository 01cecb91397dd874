import { objectResponse } from "../platform/r2-object";
import type { UploadRow } from "./db";

/**
 * A finished upload's bytes from R2, streamed: the whole object (200) or one `Range` (206), with
 * Accept-Ranges and the object's ETag (If-None-Match → 304). 416 for a range past the end.
 */
export function contentResponse(
	bucket: R2Bucket,
	row: UploadRow,
	rangeHeader: string | undefined,
	ifNoneMatch: string | undefined,
): Promise<Response> {
	const stored = {
		key: row.r2_key,
		size: row.length ?? 0,
		contentType: row.filetype ?? "application/octet-stream",
		filename: row.filename,
	};
	return objectResponse(bucket, stored, rangeHeader, ifNoneMatch, "upload_content_missing");
}
