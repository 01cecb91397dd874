import { objectResponse } from "../platform/r2-object";
import type { StoredObject } from "../platform/r2-object";
import type { UploadRow } from "./db";
import { objectPartsOf } from "./upload-db";

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
	return objectResponse(bucket, storedUpload(row), rangeHeader, ifNoneMatch, "upload_content_missing");
}

/** A finished upload as an R2 resource: its object, or a final upload's partials' objects in order. */
export function storedUpload(row: UploadRow): StoredObject {
	return {
		key: row.r2_key,
		size: row.length ?? 0,
		contentType: row.filetype ?? "application/octet-stream",
		filename: row.filename,
		parts: row.concat === "final" ? objectPartsOf(row.concat_parts) : null,
	};
}
