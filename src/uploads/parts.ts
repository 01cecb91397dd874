import type { Checksum } from "./domain";
import { digestName, sameBytes, stagingKey } from "./domain";

/**
 * The bytes of one PATCH into R2: the staged remainder of the last PATCH plus this body fill parts
 * of exactly `partSize` bytes, each uploaded as soon as it is full (memory: one part); what is
 * left goes to a new staging object. Nothing here changes the upload's state: the caller (the
 * TusUpload object) commits the outcome, so an offset only moves once its bytes are durable.
 * A part re-uploaded under the same number replaces the earlier one, so the parts of a discarded
 * PATCH (checksum mismatch, too large) are simply overwritten by the next.
 */

export type UploadCursor = {
	id: string;
	r2Key: string;
	multipartId: string;
	partSize: number;
	offset: number;
	/** Parts uploaded so far; the staging object holds offset - partsDone × partSize bytes. */
	partsDone: number;
	length: number | null;
};

export type PatchInput = {
	body: ReadableStream<Uint8Array> | null;
	checksum: Checksum | null;
	/** Most bytes this PATCH may carry (the platform limit, and what is left of Upload-Length). */
	maxBytes: number;
};

export type PatchOutcome =
	| {
			kind: "written";
			received: number;
			newParts: R2UploadedPart[];
			/** The staging object now holding the remainder (null: none, the parts end at the offset). */
			staged: string | null;
			/** The body ended early (client gone): what arrived is kept, as tus allows. */
			interrupted: boolean;
	  }
	| { kind: "checksum_mismatch" }
	| { kind: "too_large" }
	| { kind: "interrupted_with_checksum" };

export async function receivePatch(bucket: R2Bucket, cursor: UploadCursor, input: PatchInput): Promise<PatchOutcome> {
	const multipart = bucket.resumeMultipartUpload(cursor.r2Key, cursor.multipartId);
	const part = new PartBuffer(cursor.partSize);
	await part.loadStaged(bucket, cursor);
	const hasher = input.checksum ? new crypto.DigestStream(digestName(input.checksum.algorithm)) : null;
	const hashWriter = hasher?.getWriter() ?? null;
	const newParts: R2UploadedPart[] = [];
	let partNumber = cursor.partsDone + 1;
	let received = 0;
	let interrupted = false;
	const reader = (input.body ?? new Blob([]).stream()).getReader();
	for (;;) {
		let chunk: ReadableStreamReadResult<Uint8Array>;
		try {
			chunk = await reader.read();
		} catch {
			interrupted = true;
			break;
		}
		if (chunk.done) break;
		if (received + chunk.value.length > input.maxBytes) {
			await reader.cancel().catch(() => undefined);
			return { kind: "too_large" };
		}
		received += chunk.value.length;
		if (hashWriter) await hashWriter.write(chunk.value);
		let rest = chunk.value;
		while (rest.length > 0) {
			rest = part.fill(rest);
			if (part.isFull()) newParts.push(await multipart.uploadPart(partNumber++, part.take()));
		}
	}
	if (interrupted && hasher) return { kind: "interrupted_with_checksum" };
	if (hashWriter && hasher && input.checksum) {
		await hashWriter.close();
		if (!sameBytes(new Uint8Array(await hasher.digest), input.checksum.digest)) return { kind: "checksum_mismatch" };
	}
	const offset = cursor.offset + received;
	const final = cursor.length !== null && offset === cursor.length;
	let staged: string | null = null;
	if (final && part.size() > 0) newParts.push(await multipart.uploadPart(partNumber, part.take()));
	else if (part.size() > 0) {
		staged = stagingKey(cursor.id, offset);
		// Same key as before when nothing arrived: the object already holds these bytes.
		if (received > 0) await bucket.put(staged, part.take());
	}
	return { kind: "written", received, newParts, staged, interrupted };
}

/** One part being assembled: a fixed buffer, filled from the staged remainder and the body. */
class PartBuffer {
	#buffer: Uint8Array;
	#fill = 0;

	constructor(readonly partSize: number) {
		this.#buffer = new Uint8Array(partSize);
	}

	async loadStaged(bucket: R2Bucket, cursor: UploadCursor): Promise<void> {
		const staged = cursor.offset - cursor.partsDone * cursor.partSize;
		if (staged === 0) return;
		const object = await bucket.get(stagingKey(cursor.id, cursor.offset));
		const bytes = object ? new Uint8Array(await object.arrayBuffer()) : null;
		// A bug or a lost object, never a client error: the upload cannot continue consistently.
		if (!bytes || bytes.length !== staged) throw new Error(`staging object of ${cursor.id} missing or wrong size`);
		this.#buffer.set(bytes);
		this.#fill = staged;
	}

	/** Copies what fits; returns the rest of `bytes`. */
	fill(bytes: Uint8Array): Uint8Array {
		const n = Math.min(bytes.length, this.partSize - this.#fill);
		this.#buffer.set(bytes.subarray(0, n), this.#fill);
		this.#fill += n;
		return bytes.subarray(n);
	}

	isFull(): boolean {
		return this.#fill === this.partSize;
	}

	size(): number {
		return this.#fill;
	}

	/** The bytes so far (a part or a remainder), and a fresh buffer for what follows. */
	take(): Uint8Array {
		const bytes = this.#fill === this.partSize ? this.#buffer : this.#buffer.slice(0, this.#fill);
		this.#buffer = new Uint8Array(this.partSize);
		this.#fill = 0;
		return bytes;
	}
}
