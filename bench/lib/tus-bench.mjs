// tus helpers of the recordings bench (bench/scenarios/65-recordings.mjs): a plain-fetch upload in
// PATCHes, and the resume cost of tus-js-client (a real third-party client) after an abort.
import * as tus from "tus-js-client";

/** A tus upload of `length` bytes in PATCHes of `chunk` bytes; `slice(offset, n)` gives each body. */
export async function tusUpload(url, auth, length, chunk, slice) {
	const tusHeaders = { ...auth, "Tus-Resumable": "1.0.0" };
	const created = await fetch(`${url}/api/v1/uploads`, {
		method: "POST",
		headers: { ...tusHeaders, "Upload-Length": String(length) },
	});
	if (created.status !== 201) throw new Error(`create ${created.status} ${await created.text()}`);
	const location = created.headers.get("location");
	for (let offset = 0; offset < length; offset += chunk) {
		const res = await fetch(location, {
			method: "PATCH",
			headers: {
				...tusHeaders,
				"Upload-Offset": String(offset),
				"Content-Type": "application/offset+octet-stream",
			},
			body: slice(offset, Math.min(chunk, length - offset)),
		});
		if (res.status !== 204) throw new Error(`PATCH ${res.status} ${await res.text()}`);
	}
	return location;
}

export async function resumeCost(url, auth, source, chunk) {
	const storage = new Map();
	const urlStorage = {
		findAllUploads: async () => [...storage.values()],
		findUploadsByFingerprint: async (fp) => [...storage.values()].filter((u) => u.fingerprint === fp),
		removeUpload: async (key) => void storage.delete(key),
		addUpload: async (fp, upload) => {
			const key = `k${storage.size}`;
			storage.set(key, { ...upload, fingerprint: fp, urlStorageKey: key });
			return key;
		},
	};
	const opts = { endpoint: `${url}/api/v1/uploads`, chunkSize: chunk, headers: auth, urlStorage, retryDelays: [0] };
	let firstSent = 0;
	let uploadUrl = null;
	await new Promise((resolve, reject) => {
		const first = new tus.Upload(source, {
			...opts,
			storeFingerprintForResuming: true,
			onError: reject,
			onProgress: (sent) => {
				firstSent = sent;
				uploadUrl = first.url;
				if (sent >= 3.5 * chunk) void first.abort(false).then(resolve);
			},
		});
		first.start();
	});
	// The aborted PATCH's connection closes; give the Worker a moment to settle the offset.
	await new Promise((r) => setTimeout(r, 500));
	const head = await fetch(uploadUrl, { method: "HEAD", headers: { ...auth, "Tus-Resumable": "1.0.0" } });
	const durable = Number(head.headers.get("upload-offset"));
	let secondSent = 0;
	await new Promise((resolve, reject) => {
		const second = new tus.Upload(source, {
			...opts,
			onProgress: (sent) => (secondSent = sent),
			onSuccess: resolve,
			onError: reject,
		});
		void second.findPreviousUploads().then((previous) => {
			second.resumeFromPreviousUpload(previous[0]);
			second.start();
		});
	});
	// The second client sends [durable, end): so what the first sent past `durable` was sent twice.
	return {
		chunk,
		first_sent: firstSent,
		durable_offset_at_abort: durable,
		resent: firstSent - durable,
		second_sent_to: secondSent,
	};
}
