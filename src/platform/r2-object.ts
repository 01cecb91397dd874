import { AppError } from "./errors";

/** One R2 object of a composed resource (a tus final upload is its partials' objects in order). */
export type ObjectPart = { key: string; size: number; etag: string };

/** The bytes `[offset, offset + length)` of one part's object. */
export type PartSlice = { key: string; offset: number; length: number };

/** An R2 object as an HTTP resource: where it is, how long, and how to present it. */
export type StoredObject = {
	key: string;
	size: number;
	/**
	 * When set, the content is these objects one after the other (never copied into one): `key`
	 * is then not read, and `size` is the parts' sum.
	 */
	parts?: readonly ObjectPart[] | null | undefined;
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
	if (stored.parts) return composedResponse(bucket, stored, stored.parts, range, ifNoneMatch, missingCode);
	const object = await bucket.get(stored.key, range ? { range } : {});
	if (!object) throw new AppError(404, missingCode, "The object is gone.");
	const headers = presentationHeaders(stored, object.httpEtag);
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

/**
 * A composed resource (its parts' objects in order), whole or one range, streamed part by part:
 * one R2 read per part the range touches, one at a time, each only for the bytes it contributes.
 * Its ETag derives from the parts' ETags. The first part is opened before answering (404 if gone);
 * a later part that is gone ends the stream with an error.
 */
async function composedResponse(
	bucket: R2Bucket,
	stored: StoredObject,
	parts: readonly ObjectPart[],
	range: { offset: number; length: number } | null,
	ifNoneMatch: string | undefined,
	missingCode: string,
): Promise<Response> {
	const headers = presentationHeaders(stored, await composedEtag(parts));
	if (ifNoneMatch !== undefined && ifNoneMatch === headers.get("ETag"))
		return new Response(null, { status: 304, headers });
	const offset = range?.offset ?? 0;
	const length = range?.length ?? stored.size;
	const slices = slicesOf(parts, offset, length);
	const open = async (i: number) => {
		const slice = slices[i];
		if (!slice) return null;
		const object = await bucket.get(slice.key, { range: { offset: slice.offset, length: slice.length } });
		if (!object) throw new AppError(404, missingCode, "A part of the object is gone.");
		return object.body.getReader();
	};
	let index = 0;
	let reader = await open(0);
	const body = new ReadableStream<Uint8Array>({
		async pull(controller) {
			while (reader) {
				const chunk = await reader.read();
				if (!chunk.done) return controller.enqueue(chunk.value);
				reader = await open(++index);
			}
			controller.close();
		},
		async cancel() {
			await reader?.cancel();
		},
	});
	headers.set("Content-Length", String(length));
	if (!range) return new Response(body, { status: 200, headers });
	headers.set("Content-Range", `bytes ${offset}-${offset + length - 1}/${stored.size}`);
	return new Response(body, { status: 206, headers });
}

/** The pieces of each part that `[offset, offset + length)` covers, in order (empty ones left out). */
export function slicesOf(parts: readonly ObjectPart[], offset: number, length: number): PartSlice[] {
	const slices: PartSlice[] = [];
	let start = 0;
	const end = offset + length;
	for (const part of parts) {
		const from = Math.max(offset, start);
		const to = Math.min(end, start + part.size);
		if (to > from) slices.push({ key: part.key, offset: from - start, length: to - from });
		start += part.size;
	}
	return slices;
}

async function composedEtag(parts: readonly ObjectPart[]): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.map((p) => p.etag).join(",")));
	const hex = [...new Uint8Array(digest).slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
	return `"${hex}-${parts.length}"`;
}

function presentationHeaders(stored: StoredObject, etag: string): Headers {
	const headers = new Headers({
		"Accept-Ranges": "bytes",
		ETag: etag,
		"Content-Type": stored.contentType,
		"Cache-Control": "private, no-cache",
	});
	if (stored.filename)
		headers.set(
			"Content-Disposition",
			`${stored.disposition ?? "attachment"}; filename*=UTF-8''${encodeURIComponent(stored.filename)}`,
		);
	return headers;
}
