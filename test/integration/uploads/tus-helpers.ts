import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";

export const TUS = { "Tus-Resumable": "1.0.0" };
export const OCTETS = "application/offset+octet-stream";
/** The part size of every upload under 45 GB: R2's minimum, 5 MiB. */
export const PART = 5 * 1024 * 1024;
/** UPLOAD_MAX_PATCH_BYTES in vitest.config.ts. */
export const MAX_PATCH = 6 * 1024 * 1024;

export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
	const bytes = new Uint8Array(n);
	for (let i = 0; i < n; i += 65_536) crypto.getRandomValues(bytes.subarray(i, Math.min(n, i + 65_536)));
	return bytes;
}

export async function sha256(bytes: ArrayBuffer | Uint8Array<ArrayBuffer>): Promise<string> {
	return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
		.map((b) => b.toString(16).padStart(2, "0"))
		.join("");
}

export function base64(text: string): string {
	return btoa(text);
}

/** Raw tus request through the Worker (the body is bytes or a stream, not JSON). */
export async function tus(
	method: string,
	path: string,
	token: string,
	init: { headers?: Record<string, string>; body?: BodyInit } = {},
): Promise<Response> {
	const headers = new Headers({ ...TUS, ...init.headers, Authorization: `Bearer ${token}` });
	const request = new Request(`http://floodgate.test${path}`, { method, headers, body: init.body ?? null });
	return exports.default.fetch(request);
}

/** POST /api/v1/uploads; returns the upload's path (from the absolute Location). */
export async function createUpload(token: string, length: number, metadata = `filename ${base64("a.bin")}`) {
	const res = await tus("POST", "/api/v1/uploads", token, {
		headers: { "Upload-Length": String(length), "Upload-Metadata": metadata },
	});
	expect(res.status, await res.clone().text()).toBe(201);
	const location = res.headers.get("Location") ?? "";
	return { res, location, path: new URL(location).pathname, id: location.split("/").pop() ?? "" };
}

export function patch(
	token: string,
	path: string,
	offset: number,
	body: BodyInit,
	headers: Record<string, string> = {},
) {
	return tus("PATCH", path, token, {
		headers: { "Content-Type": OCTETS, "Upload-Offset": String(offset), ...headers },
		body,
	});
}

export async function offsetOf(token: string, path: string): Promise<number> {
	const res = await tus("HEAD", path, token);
	expect(res.status).toBe(200);
	return Number(res.headers.get("Upload-Offset"));
}

/** Uploads `bytes` in PATCHes of `chunk` bytes, checking each answer's offset. */
export async function uploadInChunks(
	token: string,
	path: string,
	bytes: Uint8Array<ArrayBuffer>,
	chunk: number,
	from = 0,
) {
	for (let offset = from; offset < bytes.length; offset += chunk) {
		const res = await patch(token, path, offset, bytes.slice(offset, offset + chunk));
		expect(res.status, await res.clone().text()).toBe(204);
		expect(Number(res.headers.get("Upload-Offset"))).toBe(Math.min(bytes.length, offset + chunk));
	}
}

/** The finished object in R2, read directly through the binding. */
export async function storedObject(tenantId: string, id: string): Promise<R2ObjectBody | null> {
	return env.RECORDINGS.get(`uploads/${tenantId}/${id}`);
}
