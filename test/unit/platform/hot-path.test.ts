// The helpers the ingest profile made cheaper (bench/profile.mjs) must answer exactly as before.
import { Hono } from "hono";
import { except } from "hono/combine";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../../src/platform/app-env";
import { jsonBody, readJson } from "../../../src/platform/body-limit";
import { AppError } from "../../../src/platform/errors";
import { sha256Hex, toHex } from "../../../src/platform/crypto";
import { byteLength, utf8Length } from "../../../src/platform/queue-limits";

const EXCEPT = ["/api/v1/uploads/*", "/api/v1/recordings/*/artifacts/*"];
const ENV = { MAX_BODY_BYTES: "1024", MAX_BULK_BODY_BYTES: "4096" };

function appWith(middleware: ReturnType<typeof jsonBody>): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	app.onError((error, c) => c.text(error.message, error instanceof AppError ? error.status : 500));
	app.use("/api/*", middleware);
	app.all("*", async (c) =>
		c.json({ body: c.req.header("Content-Type")?.includes("json") ? await readJson(c) : null }),
	);
	return app;
}

describe("utf8Length", () => {
	const samples = [
		"",
		'plain ascii {"a":1}',
		"é ß ü", // 2-byte
		"€ 漢字", // 3-byte
		"😀 𝄞 pairs", // surrogate pairs: 4 bytes each
		"lone \ud800 high",
		"lone \udc00 low",
		"ends high \ud83d",
		"\ud83d\ud83d\ude00", // a high surrogate, then a pair
		"x".repeat(1000) + "é".repeat(100),
	];
	for (const text of samples) {
		it(`counts what TextEncoder writes for ${JSON.stringify(text.slice(0, 20))}`, () => {
			expect(utf8Length(text)).toBe(new TextEncoder().encode(text).byteLength);
		});
	}

	it("gives byteLength the size of the JSON text in UTF-8", () => {
		const body = { truck_id: "trück-😀", note: "\ud800" };
		expect(byteLength(body)).toBe(new TextEncoder().encode(JSON.stringify(body)).byteLength);
	});
});

describe("toHex", () => {
	it("writes two lowercase digits per byte, leading zeros kept", () => {
		expect(toHex(new Uint8Array([0, 1, 15, 16, 127, 128, 254, 255]))).toBe("00010f107f80feff");
		expect(toHex(new Uint8Array([]))).toBe("");
	});

	it("gives the SHA-256 of a known text", async () => {
		expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	});
});

describe("jsonBody's excepted paths", () => {
	const ours = appWith(jsonBody({ exceptPaths: EXCEPT }));
	const combined = appWith(except(EXCEPT, jsonBody()));
	const paths = [
		"/api/v1/uploads",
		"/api/v1/uploads/",
		"/api/v1/uploads/up_1",
		"/api/v1/uploads/up_1/more",
		"/api/v1/uploadsx",
		"/api/v1/recordings/rec_1/artifacts/a.webm",
		"/api/v1/recordings/rec_1/artifacts",
		"/api/v1/recordings/rec_1",
		"/api/v1/jobs",
	];
	for (const path of paths) {
		it(`decides ${path} as hono/combine's except did`, async () => {
			const init = { method: "PATCH", headers: { "Content-Type": "application/offset+octet-stream" }, body: "x" };
			const mine = await ours.request(path, init, ENV);
			const theirs = await combined.request(path, init, ENV);
			expect(mine.status).toBe(theirs.status);
			expect([200, 415]).toContain(mine.status);
		});
	}

	it("passes an excepted path through and still checks the others", async () => {
		const init = { method: "POST", headers: { "Content-Type": "text/plain" }, body: "x" };
		expect((await ours.request("/api/v1/uploads/up_1", init, ENV)).status).toBe(200);
		expect((await ours.request("/api/v1/jobs", init, ENV)).status).toBe(415);
	});

	it("answers 413 over the size limit, also after the limiter for that size was made once", async () => {
		const big = {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({ a: "x".repeat(2000) }),
		};
		const small = { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"a":1}' };
		expect((await ours.request("/api/v1/jobs", small, ENV)).status).toBe(200);
		expect((await ours.request("/api/v1/jobs", big, ENV)).status).toBe(413);
		expect((await ours.request("/api/v1/jobs", big, { ...ENV, MAX_BODY_BYTES: "8192" })).status).toBe(200);
	});
});

describe("readJson", () => {
	const app = appWith(jsonBody());
	it("parses the body jsonBody read, a UTF-8 byte order mark dropped as Response.json() does", async () => {
		const body = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"t":"é"}')]);
		const res = await app.request(
			"/api/x",
			{ method: "POST", headers: { "Content-Type": "application/json" }, body },
			ENV,
		);
		expect(await res.json()).toEqual({ body: { t: "é" } });
		expect(await new Response(body).json()).toEqual({ t: "é" });
	});

	it("throws on malformed JSON, as c.req.json() does", async () => {
		const strict = new Hono<AppEnv>();
		strict.use("/api/*", jsonBody());
		strict.post("/api/x", async (c) => {
			const outcome = await readJson(c).then(
				() => "parsed",
				(error: unknown) => (error instanceof SyntaxError ? "syntax" : "other"),
			);
			return c.text(outcome);
		});
		const res = await strict.request(
			"/api/x",
			{ method: "POST", headers: { "Content-Type": "application/json" }, body: "{nope" },
			ENV,
		);
		expect(await res.text()).toBe("syntax");
	});
});
