import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant, json } from "../helpers";
import type { Json } from "../helpers";
import { createUpload, patch, randomBytes, sha256, tus } from "./tus-helpers";

type Partial = { id: string; path: string; location: string; bytes: Uint8Array<ArrayBuffer> };

/** A complete partial upload (Upload-Concat: partial) of `size` random bytes. */
async function partial(token: string, size: number): Promise<Partial> {
	const res = await tus("POST", "/api/v1/uploads", token, {
		headers: { "Upload-Length": String(size), "Upload-Concat": "partial" },
	});
	expect(res.status, await res.clone().text()).toBe(201);
	const location = res.headers.get("Location") ?? "";
	const path = new URL(location).pathname;
	const bytes = randomBytes(size);
	expect((await patch(token, path, 0, bytes)).status).toBe(204);
	return { id: path.split("/").pop() ?? "", path, location, bytes };
}

function final(token: string, urls: string[], headers: Record<string, string> = {}) {
	return tus("POST", "/api/v1/uploads", token, { headers: { "Upload-Concat": `final;${urls.join(" ")}`, ...headers } });
}

function joined(parts: Partial[]): Uint8Array<ArrayBuffer> {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.bytes.length, 0));
	let at = 0;
	for (const p of parts) {
		out.set(p.bytes, at);
		at += p.bytes.length;
	}
	return out;
}

async function range(token: string, path: string, header: string) {
	const res = await call("GET", path, { token, headers: { Range: header } });
	return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

describe("tus concatenation: a virtual final upload over its partials' objects", () => {
	it("joins complete partials without copying; HEAD, the download and Ranges across boundaries are exact", async () => {
		const { apiKey, tenantId } = await createTenant();
		const options = await tus("OPTIONS", "/api/v1/uploads", apiKey);
		expect(options.headers.get("Tus-Extension")).toContain("concatenation");
		const parts = [await partial(apiKey, 1000), await partial(apiKey, 2500), await partial(apiKey, 700)];
		expect((await tus("HEAD", parts[0]?.path ?? "", apiKey)).headers.get("Upload-Concat")).toBe("partial");
		// Paths or absolute URLs, as tus allows.
		const res = await final(apiKey, [parts[0]?.path ?? "", parts[1]?.location ?? "", parts[2]?.path ?? ""], {
			"Upload-Metadata": `filename ${btoa("joined.bin")}`,
		});
		expect(res.status, await res.clone().text()).toBe(201);
		const path = new URL(res.headers.get("Location") ?? "").pathname;
		const all = joined(parts);

		const head = await tus("HEAD", path, apiKey);
		expect(head.status).toBe(200);
		expect(head.headers.get("Upload-Length")).toBe(String(all.length));
		expect(head.headers.get("Upload-Offset")).toBe(String(all.length));
		expect(head.headers.get("Upload-Concat")).toBe(`final;${parts.map((p) => p.path).join(" ")}`);
		// No object of its own: the content is the partials' objects, and nothing was copied.
		const objects = await env.RECORDINGS.list({ prefix: `uploads/${tenantId}/` });
		expect(objects.objects.map((o) => o.key).sort()).toEqual(parts.map((p) => `uploads/${tenantId}/${p.id}`).sort());

		const whole = await call("GET", `${path}/content`, { token: apiKey });
		expect(whole.status).toBe(200);
		expect(whole.headers.get("Content-Length")).toBe(String(all.length));
		const etag = whole.headers.get("ETag") ?? "";
		expect(await sha256(await whole.arrayBuffer())).toBe(await sha256(all));
		for (const [header, from, to] of [
			["bytes=990-1009", 990, 1010], // across the first boundary
			["bytes=500-3899", 500, 3900], // from the first part into the third
			["bytes=3500-", 3500, all.length], // inside the last part to the end
			["bytes=-750", all.length - 750, all.length], // a suffix across the last boundary
			["bytes=1000-1000", 1000, 1001], // the first byte of the second part
		] as const) {
			const r = await range(apiKey, `${path}/content`, header);
			expect(r.res.status, header).toBe(206);
			expect(r.res.headers.get("Content-Range"), header).toBe(`bytes ${from}-${to - 1}/${all.length}`);
			expect(r.bytes, header).toEqual(all.slice(from, to));
		}
		expect((await range(apiKey, `${path}/content`, `bytes=${all.length}-`)).res.status).toBe(416);
		const cached = await call("GET", `${path}/content`, { token: apiKey, headers: { "If-None-Match": etag } });
		expect(cached.status).toBe(304);

		// A final takes no data; the partials were adopted by it (gone as uploads).
		const denied = await patch(apiKey, path, all.length, randomBytes(1));
		expect(denied.status).toBe(403);
		for (const p of parts) expect((await tus("HEAD", p.path, apiKey)).status).toBe(404);
		// Terminating the final deletes the partials' objects.
		expect((await tus("DELETE", path, apiKey)).status).toBe(204);
		expect((await env.RECORDINGS.list({ prefix: `uploads/${tenantId}/` })).objects).toEqual([]);
		expect((await tus("HEAD", path, apiKey)).status).toBe(404);
	});

	it("refuses another tenant's partial (404), an unfinished or non-partial one, a length or a bad header (400), and consumes nothing", async () => {
		const { apiKey } = await createTenant();
		const other = await createTenant();
		const mine = await partial(apiKey, 100);
		const theirs = await partial(other.apiKey, 100);
		const foreign = await final(apiKey, [mine.path, theirs.path]);
		expect(foreign.status).toBe(404);
		expect(((await json(foreign)).error as Json).code).toBe("upload_not_found");

		const unfinished = await tus("POST", "/api/v1/uploads", apiKey, {
			headers: { "Upload-Length": "100", "Upload-Concat": "partial" },
		});
		const unfinishedPath = new URL(unfinished.headers.get("Location") ?? "").pathname;
		const notDone = await final(apiKey, [mine.path, unfinishedPath]);
		expect(notDone.status).toBe(400);
		expect(((await json(notDone)).error as Json).code).toBe("concat_partial_incomplete");

		const plain = await createUpload(apiKey, 10);
		expect((await patch(apiKey, plain.path, 0, randomBytes(10))).status).toBe(204);
		const notPartial = await final(apiKey, [mine.path, plain.path]);
		expect(((await json(notPartial)).error as Json).code).toBe("concat_not_partial");
		expect((await final(apiKey, [mine.path], { "Upload-Length": "100" })).status).toBe(400);
		expect((await final(apiKey, [mine.path, mine.path])).status).toBe(400);
		expect((await final(apiKey, ["/api/v1/other/upl_000000000000000000000000"])).status).toBe(400);
		expect((await final(apiKey, [])).status).toBe(400);
		// Nothing was consumed by the refused creations.
		expect((await tus("HEAD", mine.path, apiKey)).status).toBe(200);
		expect((await tus("HEAD", theirs.path, other.apiKey)).status).toBe(200);
	});

	it("makes a recording from a final upload: its source streams the partials, Range across boundaries", async () => {
		const { apiKey } = await createTenant();
		const parts = [await partial(apiKey, 1200), await partial(apiKey, 1300)];
		const res = await final(
			apiKey,
			parts.map((p) => p.path),
		);
		const uploadId = (res.headers.get("Location") ?? "").split("/").pop() ?? "";
		const created = await call("POST", "/api/v1/recordings", {
			token: apiKey,
			body: { meeting_id: "m-concat", upload_id: uploadId },
		});
		expect(created.status, await created.clone().text()).toBe(202);
		const rec = await json(created);
		expect(rec.source_bytes).toBe(2500);
		const source = `/api/v1/recordings/${String(rec.recording_id)}/source`;
		const r = await range(apiKey, source, "bytes=1100-1399");
		expect(r.res.status).toBe(206);
		expect(r.bytes).toEqual(joined(parts).slice(1100, 1400));
		const whole = await call("GET", source, { token: apiKey });
		expect(await sha256(await whole.arrayBuffer())).toBe(await sha256(joined(parts)));
		// A final upload is not attached as one artifact object.
		const more = [await partial(apiKey, 10), await partial(apiKey, 10)];
		const another = await final(
			apiKey,
			more.map((p) => p.path),
		);
		const anotherId = (another.headers.get("Location") ?? "").split("/").pop() ?? "";
		const attach = await call("POST", `/api/v1/recordings/${String(rec.recording_id)}/artifacts/x.bin`, {
			token: apiKey,
			body: { upload_id: anotherId },
		});
		expect(attach.status).toBe(409);
	});
});
