import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";
import {
	createUpload,
	offsetOf,
	PART,
	patch,
	randomBytes,
	sha256,
	storedObject,
	tus,
	uploadInChunks,
} from "./tus-helpers";

describe("tus uploads into R2 multipart", () => {
	it("stores a multi-part upload sent in chunks that do not align with parts, byte-identical", async () => {
		const { apiKey, tenantId } = await createTenant();
		const bytes = randomBytes(PART * 2 + 12_345);
		const { path, id } = await createUpload(apiKey, bytes.length);
		// 3 MB chunks: parts fill across PATCHes, the remainder is staged in between.
		await uploadInChunks(apiKey, path, bytes, 3_000_000);
		const object = await storedObject(tenantId, id);
		expect(object?.size).toBe(bytes.length);
		expect(await sha256(await (object ?? fail()).arrayBuffer())).toBe(await sha256(bytes));
		const listed = await env.RECORDINGS.list({ prefix: `staging/${id}` });
		expect(listed.objects).toEqual([]);
		const info = await call("GET", path, { token: apiKey }).then((r) => r.json<Record<string, unknown>>());
		expect(info).toMatchObject({ status: "complete", offset: bytes.length, part_size: PART });
		expect(info.completed_at).toEqual(expect.any(Number));
	});

	it("serves the content with Range support: 206, Accept-Ranges, ETag, 416 past the end", async () => {
		const { apiKey } = await createTenant();
		const bytes = randomBytes(PART + 100);
		const { path } = await createUpload(apiKey, bytes.length);
		await uploadInChunks(apiKey, path, bytes, bytes.length);
		const whole = await call("GET", `${path}/content`, { token: apiKey });
		expect(whole.status).toBe(200);
		expect(whole.headers.get("Accept-Ranges")).toBe("bytes");
		const etag = whole.headers.get("ETag");
		expect(etag).toBeTruthy();
		expect(await sha256(await whole.arrayBuffer())).toBe(await sha256(bytes));
		const part = await call("GET", `${path}/content`, { token: apiKey, headers: { Range: "bytes=100-199" } });
		expect(part.status).toBe(206);
		expect(part.headers.get("Content-Range")).toBe(`bytes 100-199/${bytes.length}`);
		expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.slice(100, 200));
		const tail = await call("GET", `${path}/content`, { token: apiKey, headers: { Range: "bytes=-10" } });
		expect(new Uint8Array(await tail.arrayBuffer())).toEqual(bytes.slice(-10));
		const past = await call("GET", `${path}/content`, { token: apiKey, headers: { Range: `bytes=${bytes.length}-` } });
		expect(past.status).toBe(416);
		expect(past.headers.get("Content-Range")).toBe(`bytes */${bytes.length}`);
		const cached = await call("GET", `${path}/content`, { token: apiKey, headers: { "If-None-Match": etag ?? "" } });
		expect(cached.status).toBe(304);
	});

	it("answers 409 for the content of an unfinished upload", async () => {
		const { apiKey } = await createTenant();
		const { path } = await createUpload(apiKey, 10);
		expect((await call("GET", `${path}/content`, { token: apiKey })).status).toBe(409);
	});

	it("keeps what arrived of an interrupted PATCH, and the upload resumes from the HEAD offset", async () => {
		const { apiKey, tenantId } = await createTenant();
		const bytes = randomBytes(PART * 2 + 500);
		const { path, id } = await createUpload(apiKey, bytes.length);
		const sent = PART + 1000;
		// A body that delivers `sent` bytes, then the connection drops.
		let pulls = 0;
		const body = new ReadableStream<Uint8Array>({
			pull(controller) {
				if (pulls++ === 0) controller.enqueue(bytes.slice(0, sent));
				else controller.error(new Error("connection reset"));
			},
		});
		await patch(apiKey, path, 0, body).catch(() => null);
		// Everything that arrived is durable: one full part in R2, the rest staged.
		const offset = await offsetOf(apiKey, path);
		expect(offset).toBe(sent);
		expect((await env.RECORDINGS.list({ prefix: `staging/${id}/` })).objects.map((o) => o.size)).toEqual([1000]);
		await uploadInChunks(apiKey, path, bytes, 3_000_000, offset);
		const object = await storedObject(tenantId, id);
		expect(await sha256(await (object ?? fail()).arrayBuffer())).toBe(await sha256(bytes));
	});

	it("discards a chunk whose checksum does not match (460), offset unchanged; sha1 and sha256 accepted", async () => {
		const { apiKey, tenantId } = await createTenant();
		const bytes = randomBytes(PART + 20_000);
		const { path, id } = await createUpload(apiKey, bytes.length);
		const first = bytes.slice(0, 40_000);
		const bad = await patch(apiKey, path, 0, first, {
			"Upload-Checksum": `sha256 ${await digest("SHA-256", randomBytes(8))}`,
		});
		expect(bad.status).toBe(460);
		expect(await bad.json()).toMatchObject({ error: { code: "checksum_mismatch" } });
		expect(await offsetOf(apiKey, path)).toBe(0);
		const good = await patch(apiKey, path, 0, first, { "Upload-Checksum": `sha1 ${await digest("SHA-1", first)}` });
		expect(good.status).toBe(204);
		// A mismatch that spans a part boundary: the part it uploaded is replaced by the next good PATCH.
		const rest = bytes.slice(40_000);
		const spanning = await patch(apiKey, path, 40_000, rest.slice().fill(7), {
			"Upload-Checksum": `sha256 ${await digest("SHA-256", rest)}`,
		});
		expect(spanning.status).toBe(460);
		expect(await offsetOf(apiKey, path)).toBe(40_000);
		const last = await patch(apiKey, path, 40_000, rest, {
			"Upload-Checksum": `sha256 ${await digest("SHA-256", rest)}`,
		});
		expect(last.status).toBe(204);
		const object = await storedObject(tenantId, id);
		expect(await sha256(await (object ?? fail()).arrayBuffer())).toBe(await sha256(bytes));
		const unsupported = await patch(apiKey, path, 0, first, { "Upload-Checksum": "md5 AAAA" });
		expect(unsupported.status).toBe(400);
	});

	it("terminates an upload: 204, its multipart upload and staged bytes gone, then 404", async () => {
		const { apiKey } = await createTenant();
		const { path, id } = await createUpload(apiKey, PART * 2);
		await uploadInChunks(apiKey, path, randomBytes(PART + 10), PART + 10);
		expect((await env.RECORDINGS.list({ prefix: `staging/${id}` })).objects).toHaveLength(1);
		const res = await tus("DELETE", path, apiKey);
		expect(res.status).toBe(204);
		expect(res.headers.get("Tus-Resumable")).toBe("1.0.0");
		expect((await env.RECORDINGS.list({ prefix: `staging/${id}` })).objects).toEqual([]);
		expect((await tus("HEAD", path, apiKey)).status).toBe(404);
		expect((await patch(apiKey, path, PART + 10, randomBytes(5))).status).toBe(404);
		expect((await tus("DELETE", path, apiKey)).status).toBe(404);
	});

	it("expires an unfinished upload by its alarm: 410, multipart aborted, status expired", async () => {
		const { apiKey, tenantId } = await createTenant();
		const { path, id } = await createUpload(apiKey, PART * 2);
		await uploadInChunks(apiKey, path, randomBytes(PART + 10), PART + 10);
		const stub = env.TUS_UPLOADS.getByName(id);
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect((await tus("HEAD", path, apiKey)).status).toBe(410);
		expect((await patch(apiKey, path, PART + 10, randomBytes(5))).status).toBe(410);
		expect((await env.RECORDINGS.list({ prefix: `staging/${id}` })).objects).toEqual([]);
		const row = await env.DB.prepare("SELECT status FROM uploads WHERE id = ?").bind(id).first<{ status: string }>();
		expect(row?.status).toBe("expired");
		expect(await storedObject(tenantId, id)).toBeNull();
		// The multipart upload is aborted: completing it now fails.
		const multipart = await env.RECORDINGS.list({ prefix: `uploads/${tenantId}/` });
		expect(multipart.objects).toEqual([]);
	});

	it("refuses a second PATCH while one is streaming (423)", async () => {
		const { apiKey } = await createTenant();
		const { path } = await createUpload(apiKey, 2000);
		let release: () => void = () => undefined;
		const gate = new Promise<void>((resolve) => (release = resolve));
		const slow = new ReadableStream<Uint8Array>({
			async start(controller) {
				controller.enqueue(randomBytes(1000));
				await gate;
				controller.close();
			},
		});
		const first = patch(apiKey, path, 0, slow);
		await new Promise((resolve) => setTimeout(resolve, 300));
		const second = await patch(apiKey, path, 0, randomBytes(1000));
		expect(second.status).toBe(423);
		release();
		expect((await first).status).toBe(204);
		expect(await offsetOf(apiKey, path)).toBe(1000);
	});

	it("limits a tenant's unfinished uploads (429 with Retry-After), by count and by bytes", async () => {
		const { apiKey } = await createTenant();
		const made = [];
		for (let i = 0; i < 10; i++) made.push(await createUpload(apiKey, 100));
		const over = await tus("POST", "/api/v1/uploads", apiKey, { headers: { "Upload-Length": "100" } });
		expect(over.status).toBe(429);
		expect(over.headers.get("Retry-After")).toBe("60");
		expect(await over.json()).toMatchObject({ error: { code: "upload_quota_exceeded" } });
		// Finishing one frees its place.
		await uploadInChunks(apiKey, made[0]?.path ?? "", randomBytes(100), 100);
		expect((await tus("POST", "/api/v1/uploads", apiKey, { headers: { "Upload-Length": "100" } })).status).toBe(201);

		const other = await createTenant("bytes");
		const big = String(50 * 2 ** 30);
		for (let i = 0; i < 2; i++) await createUpload(other.apiKey, Number(big));
		const tooMuch = await tus("POST", "/api/v1/uploads", other.apiKey, { headers: { "Upload-Length": "1" } });
		expect(tooMuch.status).toBe(429);
	});
});

async function digest(algorithm: "SHA-1" | "SHA-256", bytes: Uint8Array<ArrayBuffer>): Promise<string> {
	return btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest(algorithm, bytes))));
}

function fail(): never {
	throw new Error("object missing");
}
