// `npm run test:e2e`: tus-js-client (a real third-party tus client, in Node) against the Worker
// started locally by wrangler (unstable_startWorker, as scripts/openapi.mjs does) on 127.0.0.1:
// a chunked upload through R2 staging, a parallel upload (tus concatenation), an upload aborted
// midway and resumed by a new client from the server's offset, termination; each finished object is checked by sha256 through the
// download route. (Expiry and checksum mismatches are tested in workerd: test/integration/uploads.)
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import * as tus from "tus-js-client";
import { createTenant, startLocalWorker } from "./local-worker.mjs";

const MIB = 1024 * 1024;
/** Smaller than the 5 MiB part size, so parts are completed across PATCHes from staged bytes. */
const CHUNK = 2 * MIB;

let worker;
let base;
let apiKey;

before(async () => {
	({ worker, base } = await startLocalWorker());
	apiKey = await createTenant(base, "tus-e2e");
});

after(async () => {
	await worker?.dispose();
});

/** tus-js-client's URL storage, in memory: what findPreviousUploads and resumeFromPreviousUpload use. */
class MemoryUrlStorage {
	#uploads = new Map();
	async findAllUploads() {
		return [...this.#uploads.values()];
	}
	async findUploadsByFingerprint(fingerprint) {
		return [...this.#uploads.values()].filter((u) => u.fingerprint === fingerprint);
	}
	async removeUpload(key) {
		this.#uploads.delete(key);
	}
	async addUpload(fingerprint, upload) {
		const key = `tus::${fingerprint}::${this.#uploads.size}`;
		this.#uploads.set(key, { ...upload, fingerprint, urlStorageKey: key });
		return key;
	}
}

function options(extra) {
	return {
		endpoint: `${base}/api/v1/uploads`,
		chunkSize: CHUNK,
		retryDelays: [0, 500, 1000],
		headers: { Authorization: `Bearer ${apiKey}` },
		metadata: { filename: "meeting.bin", filetype: "application/octet-stream" },
		...extra,
	};
}

function run(upload) {
	return new Promise((resolve, reject) => {
		upload.options.onSuccess = () => resolve(upload.url);
		upload.options.onError = reject;
		upload.start();
	});
}

async function contentSha256(url) {
	const res = await fetch(`${url}/content`, { headers: { Authorization: `Bearer ${apiKey}` } });
	assert.equal(res.status, 200);
	assert.equal(res.headers.get("accept-ranges"), "bytes");
	return sha256(Buffer.from(await res.arrayBuffer()));
}

function sha256(bytes) {
	return createHash("sha256").update(bytes).digest("hex");
}

async function head(url) {
	return fetch(url, { method: "HEAD", headers: { Authorization: `Bearer ${apiKey}`, "Tus-Resumable": "1.0.0" } });
}

void test("uploads ~12 MB in 2 MiB chunks and the stored object is byte-identical", async () => {
	const source = randomBytes(12 * MIB + 12_345);
	const url = await run(new tus.Upload(source, options({})));
	assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/uploads\/upl_[0-9a-f]{24}$/);
	assert.equal(await contentSha256(url), sha256(source));
	const ranged = await fetch(`${url}/content`, { headers: { Authorization: `Bearer ${apiKey}`, Range: "bytes=5-14" } });
	assert.equal(ranged.status, 206);
	assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), source.subarray(5, 15));
});

void test("uploads in 3 parallel partial uploads joined by a final one (concatenation), byte-identical, Range across boundaries", async () => {
	const source = randomBytes(9 * MIB + 7_777);
	const url = await run(new tus.Upload(source, options({ parallelUploads: 3 })));
	const res = await head(url);
	assert.equal(res.status, 200);
	assert.equal(res.headers.get("upload-length"), String(source.length));
	assert.equal(res.headers.get("upload-offset"), String(source.length));
	const concat = res.headers.get("upload-concat") ?? "";
	assert.match(concat, /^final;(\/api\/v1\/uploads\/upl_[0-9a-f]{24} ?){3}$/);
	assert.equal(await contentSha256(url), sha256(source));
	// tus-js-client splits the file into 3 equal parts: read across the two boundaries.
	const third = Math.floor(source.length / 3);
	for (const [from, to] of [
		[third - 100, third + 99],
		[third - 5, 2 * third + 5],
	]) {
		const ranged = await fetch(`${url}/content`, {
			headers: { Authorization: `Bearer ${apiKey}`, Range: `bytes=${from}-${to}` },
		});
		assert.equal(ranged.status, 206);
		assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), source.subarray(from, to + 1));
	}
	// The partials were joined into the final: as uploads they are gone.
	for (const path of concat.slice("final;".length).split(" ")) assert.equal((await head(`${base}${path}`)).status, 404);
});

void test("resumes an upload aborted midway with a new client, from the server's offset", async () => {
	const source = randomBytes(12 * MIB);
	const urlStorage = new MemoryUrlStorage();
	const first = new tus.Upload(source, options({ urlStorage, storeFingerprintForResuming: true }));
	const url = await new Promise((resolve, reject) => {
		first.options.onError = reject;
		first.options.onChunkComplete = (_chunk, uploaded) => {
			// After the third chunk (6 MiB: one part in R2, 1 MiB staged), the client goes away.
			if (uploaded >= 3 * CHUNK) void first.abort(false).then(() => resolve(first.url));
		};
		first.start();
	});
	const offset = Number((await head(url)).headers.get("upload-offset"));
	assert.equal(offset, 3 * CHUNK);

	let resumedFrom = null;
	const second = new tus.Upload(
		source,
		options({
			urlStorage,
			onProgress: (sent) => {
				resumedFrom ??= sent;
			},
		}),
	);
	const previous = await second.findPreviousUploads();
	assert.equal(previous.length, 1);
	second.resumeFromPreviousUpload(previous[0]);
	assert.equal(await run(second), url);
	// The new client started at the server's offset: nothing the server had was sent again.
	assert.equal(resumedFrom, offset);
	assert.equal(await contentSha256(url), sha256(source));
});

void test("terminates an upload: its URL answers 404 afterwards", async () => {
	const source = randomBytes(3 * MIB);
	const upload = new tus.Upload(source, options({ uploadSize: 8 * MIB }));
	const url = await new Promise((resolve, reject) => {
		upload.options.onError = reject;
		upload.options.onChunkComplete = () => resolve(upload.url);
		upload.start();
	});
	await upload.abort(false);
	await tus.Upload.terminate(url, { headers: { Authorization: `Bearer ${apiKey}` } });
	assert.equal((await head(url)).status, 404);
});
