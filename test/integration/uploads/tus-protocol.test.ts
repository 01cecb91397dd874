import { describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";
import { base64, createUpload, MAX_PATCH, OCTETS, offsetOf, patch, randomBytes, tus } from "./tus-helpers";

describe("tus core protocol", () => {
	it("answers OPTIONS without a credential with the versions, extensions and limits", async () => {
		const res = await call("OPTIONS", "/api/v1/uploads");
		expect(res.status).toBe(204);
		expect(res.headers.get("Tus-Resumable")).toBe("1.0.0");
		expect(res.headers.get("Tus-Version")).toBe("1.0.0");
		expect(res.headers.get("Tus-Extension")?.split(",")).toEqual([
			"creation",
			"creation-with-upload",
			"creation-defer-length",
			"expiration",
			"checksum",
			"termination",
			"concatenation",
		]);
		expect(res.headers.get("Tus-Max-Size")).toBe("53687091200");
		expect(res.headers.get("Tus-Checksum-Algorithm")).toBe("sha1,sha256");
	});

	it("answers 412 with Tus-Version for another protocol version, and Tus-Resumable on a 401", async () => {
		const { apiKey } = await createTenant();
		const res = await tus("POST", "/api/v1/uploads", apiKey, {
			headers: { "Tus-Resumable": "0.2.2", "Upload-Length": "10" },
		});
		expect(res.status).toBe(412);
		expect(res.headers.get("Tus-Version")).toBe("1.0.0");
		expect(res.headers.get("Tus-Resumable")).toBe("1.0.0");
		const anonymous = await call("POST", "/api/v1/uploads", { headers: { "Tus-Resumable": "1.0.0" } });
		expect(anonymous.status).toBe(401);
		expect(anonymous.headers.get("Tus-Resumable")).toBe("1.0.0");
	});

	it("creates an upload at an absolute Location and reports it on HEAD, uncached", async () => {
		const { apiKey } = await createTenant();
		const metadata = `filename ${base64("meeting.mp4")},filetype ${base64("video/mp4")}`;
		const { res, location, path } = await createUpload(apiKey, 1000, metadata);
		expect(location).toMatch(/^http:\/\/floodgate\.test\/api\/v1\/uploads\/upl_[0-9a-f]{24}$/);
		expect(res.headers.get("Upload-Expires")).toMatch(/GMT$/);
		const head = await tus("HEAD", path, apiKey);
		expect(head.status).toBe(200);
		expect(head.headers.get("Upload-Offset")).toBe("0");
		expect(head.headers.get("Upload-Length")).toBe("1000");
		expect(head.headers.get("Upload-Metadata")).toBe(metadata);
		expect(head.headers.get("Cache-Control")).toBe("no-store");
		expect(head.headers.get("Tus-Resumable")).toBe("1.0.0");
		const info = await call("GET", path, { token: apiKey });
		expect(await info.json()).toMatchObject({ status: "uploading", offset: 0, length: 1000, filename: "meeting.mp4" });
	});

	it("requires Upload-Length or Upload-Defer-Length, and refuses lengths over Tus-Max-Size", async () => {
		const { apiKey } = await createTenant();
		expect((await tus("POST", "/api/v1/uploads", apiKey)).status).toBe(400);
		const huge = await tus("POST", "/api/v1/uploads", apiKey, { headers: { "Upload-Length": "53687091201" } });
		expect(huge.status).toBe(413);
		const bad = await tus("POST", "/api/v1/uploads", apiKey, {
			headers: { "Upload-Length": "5", "Upload-Metadata": "filename not-base64!" },
		});
		expect(bad.status).toBe(400);
	});

	it("answers 415 for a PATCH that is not application/offset+octet-stream and 409 for a wrong offset", async () => {
		const { apiKey } = await createTenant();
		const { path } = await createUpload(apiKey, 100);
		const json = await tus("PATCH", path, apiKey, {
			headers: { "Content-Type": "application/json", "Upload-Offset": "0" },
			body: "{}",
		});
		expect(json.status).toBe(415);
		const wrong = await patch(apiKey, path, 10, randomBytes(10));
		expect(wrong.status).toBe(409);
		expect(await wrong.json()).toMatchObject({ error: { code: "offset_mismatch", details: { offset: 0 } } });
		expect(await offsetOf(apiKey, path)).toBe(0);
	});

	it("answers 413 with the limit for a PATCH body over UPLOAD_MAX_PATCH_BYTES", async () => {
		const { apiKey } = await createTenant();
		const { path } = await createUpload(apiKey, MAX_PATCH * 2);
		const res = await patch(apiKey, path, 0, randomBytes(MAX_PATCH + 1));
		expect(res.status).toBe(413);
		expect(await res.json()).toMatchObject({ error: { code: "payload_too_large", details: { max_bytes: MAX_PATCH } } });
		expect(await offsetOf(apiKey, path)).toBe(0);
	});

	it("answers 404 for another tenant's upload URL", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const { path } = await createUpload(a.apiKey, 10);
		expect((await tus("HEAD", path, b.apiKey)).status).toBe(404);
		expect((await patch(b.apiKey, path, 0, randomBytes(10))).status).toBe(404);
		expect((await tus("DELETE", path, b.apiKey)).status).toBe(404);
		expect((await call("GET", `${path}/content`, { token: b.apiKey })).status).toBe(404);
		expect(await offsetOf(a.apiKey, path)).toBe(0);
	});

	it("uploads in the creation request (creation-with-upload)", async () => {
		const { apiKey } = await createTenant();
		const bytes = randomBytes(1000);
		const res = await tus("POST", "/api/v1/uploads", apiKey, {
			headers: { "Upload-Length": "1500", "Content-Type": OCTETS },
			body: bytes,
		});
		expect(res.status).toBe(201);
		expect(res.headers.get("Upload-Offset")).toBe("1000");
		const path = new URL(res.headers.get("Location") ?? "").pathname;
		expect((await patch(apiKey, path, 1000, randomBytes(500))).status).toBe(204);
		expect((await call("GET", path, { token: apiKey }).then((r) => r.json<{ status: string }>())).status).toBe(
			"complete",
		);
	});

	it("defers the length until a PATCH declares it (creation-defer-length)", async () => {
		const { apiKey } = await createTenant();
		const res = await tus("POST", "/api/v1/uploads", apiKey, { headers: { "Upload-Defer-Length": "1" } });
		expect(res.status).toBe(201);
		const path = new URL(res.headers.get("Location") ?? "").pathname;
		const head = await tus("HEAD", path, apiKey);
		expect(head.headers.get("Upload-Defer-Length")).toBe("1");
		expect(head.headers.get("Upload-Length")).toBeNull();
		expect((await patch(apiKey, path, 0, randomBytes(300))).status).toBe(204);
		const last = await patch(apiKey, path, 300, randomBytes(200), { "Upload-Length": "500" });
		expect(last.status).toBe(204);
		expect(last.headers.get("Upload-Length")).toBe("500");
		const info = await call("GET", path, { token: apiKey }).then((r) => r.json<{ status: string; length: number }>());
		expect(info).toMatchObject({ status: "complete", length: 500 });
	});
});
