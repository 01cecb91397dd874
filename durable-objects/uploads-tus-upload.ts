import { DurableObject } from "cloudflare:workers";
import type {
	Adopted,
	CreateInit,
	FinalInit,
	PatchRequest,
	PatchResult,
	Refusal,
	UploadView,
} from "../src/uploads/object-types";
import { stagingKey } from "../src/uploads/domain";
import { finishUpload, setUploadLength } from "../src/uploads/db";
import { receivePatch } from "../src/uploads/parts";
import type { ConcatState, UploadState } from "../src/uploads/upload-db";
import {
	clearParts,
	readConcat,
	saveConcat,
	countParts,
	createUploadTables,
	readParts,
	readUploadState,
	saveParts,
	saveUploadState,
} from "../src/uploads/upload-db";
import { errorText, log } from "../src/platform/log";
import { view } from "../src/uploads/object-types";

export type {
	Adopted,
	CreateInit,
	FinalInit,
	PatchRequest,
	PatchResult,
	Refusal,
	UploadView,
} from "../src/uploads/object-types";

/** An alarm that finds a PATCH streaming looks again this much later (the PATCH moves it anyway). */
const BUSY_RETRY_MS = 60_000;
const DAY_MS = 86_400_000;
/** Statuses of an upload that ended without a file; the object's alarm then means retention. */
const ENDED: ReadonlySet<UploadState["status"]> = new Set(["expired", "terminated", "failed"]);

/**
 * One tus upload (binding TUS_UPLOADS, addressed by upload id): its state and part etags in
 * SQLite, its R2 multipart upload, one PATCH at a time (a concurrent one is refused: 423), and
 * its expiry by alarm (the multipart upload is aborted). The byte handling is src/uploads/parts.ts.
 */
export class TusUpload extends DurableObject<Env> {
	#state: UploadState | null = null;
	#concat: ConcatState | null = null;
	#busy = false;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			createUploadTables(ctx.storage.sql);
			this.#state = readUploadState(ctx.storage.sql);
			this.#concat = readConcat(ctx.storage.sql);
		});
	}

	async create(init: CreateInit): Promise<UploadView> {
		if (this.#state) return this.#view(this.#state);
		const { filename, filetype, concat, ...fields } = init;
		if (concat === "partial") this.#saveConcat({ kind: "partial", objects: [] });
		const empty = init.length === 0;
		const multipart = empty
			? null
			: await this.env.RECORDINGS.createMultipartUpload(init.r2Key, {
					...(filetype ? { httpMetadata: { contentType: filetype } } : {}),
					customMetadata: { upload_id: init.id, ...(filename ? { filename } : {}) },
				});
		const state: UploadState = { ...fields, offset: 0, multipartId: multipart?.uploadId ?? null, status: "uploading" };
		this.#save(state);
		if (empty) await this.#complete(state, []);
		else if (state.expiresAt !== null) await this.ctx.storage.setAlarm(state.expiresAt);
		return this.#view(state);
	}

	/** A final upload: nothing to receive, complete from the start (PATCH answers 403). */
	async createFinal(init: FinalInit): Promise<UploadView> {
		if (this.#state) return this.#view(this.#state);
		const { partialIds, objects, ...fields } = init;
		const length = objects.reduce((sum, o) => sum + o.size, 0);
		this.#saveConcat({ kind: "final", ids: partialIds, objects });
		const state: UploadState = {
			...fields,
			length,
			offset: length,
			multipartId: null,
			status: "complete",
			expiresAt: null,
		};
		this.#save(state);
		return this.#view(state);
	}

	async inspect(tenantId: string): Promise<{ ok: true; view: UploadView } | Refusal> {
		const state = await this.#live(tenantId);
		return "code" in state ? state : { ok: true, view: this.#view(state) };
	}

	async patch(request: PatchRequest, body: ReadableStream<Uint8Array> | null): Promise<PatchResult> {
		const state = await this.#live(request.tenantId);
		if ("code" in state) return state;
		if (this.#concat?.kind === "final") return { ok: false, code: "final" };
		if (this.#busy) return { ok: false, code: "busy" };
		if (request.offset !== state.offset) return { ok: false, code: "offset_mismatch", offset: state.offset };
		// A repeat of the last PATCH whose answer was lost: the upload is already complete.
		if (state.status === "complete") return { ok: true, view: this.#view(state) };
		const length = request.length ?? state.length;
		const lengthChanged = request.length !== null && request.length !== state.length;
		if (
			length !== null &&
			(length < state.offset || length > request.maxLength || (lengthChanged && state.length !== null))
		) {
			return { ok: false, code: "length_invalid" };
		}
		this.#busy = true;
		try {
			const cursor = {
				...state,
				length,
				multipartId: state.multipartId ?? "",
				partsDone: countParts(this.ctx.storage.sql),
			};
			const left = length === null ? request.maxLength - state.offset : length - state.offset;
			const outcome = await receivePatch(this.env.RECORDINGS, cursor, {
				body,
				checksum: request.checksum,
				maxBytes: Math.min(request.maxPatchBytes, left),
			});
			if (outcome.kind === "interrupted_with_checksum") return { ok: false, code: "interrupted" };
			if (outcome.kind !== "written") return { ok: false, code: outcome.kind };
			// Terminated or expired while the body streamed: nothing of it is kept.
			if (this.#state?.status !== "uploading") return { ok: false, code: "gone" };
			const next: UploadState = {
				...state,
				length,
				offset: state.offset + outcome.received,
				expiresAt: Date.now() + request.expirySeconds * 1000,
			};
			saveParts(this.ctx.storage.sql, outcome.newParts);
			this.#save(next);
			if (lengthChanged && length !== null) await setUploadLength(this.env.DB, state.id, length);
			const oldStaging = stagingKey(state.id, state.offset);
			if (outcome.staged !== oldStaging) await this.env.RECORDINGS.delete(oldStaging);
			if (next.offset === length) await this.#complete(next, readParts(this.ctx.storage.sql));
			else if (next.expiresAt !== null) await this.ctx.storage.setAlarm(next.expiresAt);
			if (outcome.interrupted) log.info("upload patch interrupted, received bytes kept", { upload_id: state.id });
			return { ok: true, view: this.#view(this.#state ?? next) };
		} finally {
			this.#busy = false;
		}
	}

	/** tus termination: the multipart upload (or the finished object) and staged bytes are removed. */
	async terminate(tenantId: string): Promise<{ ok: true } | Refusal> {
		const state = await this.#live(tenantId);
		if ("code" in state) return state;
		// Saved before the first await: an adopt() arriving meanwhile finds it terminated.
		this.#save({ ...state, status: "terminated", multipartId: null });
		await this.#discard(state);
		// A final upload has no object of its own: its partials' objects (adopted by it) are its content.
		const keys = this.#concat?.kind === "final" ? this.#concat.objects.map((o) => o.key) : [state.r2Key];
		if (state.status === "complete") await this.env.RECORDINGS.delete(keys);
		await this.#ended(state.id, "terminated");
		return { ok: true };
	}

	/**
	 * Hands a complete upload's R2 object over to a new owner (a recording artifact): the upload
	 * ends as terminated (404 from now on) but its object stays, now the owner's to delete.
	 */
	async adopt(tenantId: string): Promise<Adopted> {
		const state = await this.#live(tenantId);
		if ("code" in state) return state;
		if (state.status !== "complete") return { ok: false, code: "incomplete", view: this.#view(state) };
		this.#save({ ...state, status: "terminated", multipartId: null });
		await this.#ended(state.id, "terminated");
		return { ok: true, r2Key: state.r2Key, length: state.length ?? 0 };
	}

	/** Expiry of an unfinished upload: its multipart upload is aborted, later requests get 410. */
	override async alarm(): Promise<void> {
		const state = this.#state;
		if (state && ENDED.has(state.status)) {
			// Retention: the D1 row is purged by the sweep about now; the object forgets the upload.
			await this.ctx.storage.deleteAll();
			this.#state = null;
			return;
		}
		// Every PATCH moves the alarm to the new expiry, so when it runs the upload has expired.
		if (!state || state.status !== "uploading") return;
		if (this.#busy) {
			await this.ctx.storage.setAlarm(Date.now() + BUSY_RETRY_MS);
			return;
		}
		await this.#expire(state);
	}

	/** The upload if the caller's tenant owns it and it is still there; expires it when overdue. */
	async #live(tenantId: string): Promise<UploadState | Refusal> {
		const state = this.#state;
		if (!state || state.tenantId !== tenantId || state.status === "terminated" || state.status === "failed") {
			return { ok: false, code: "not_found" };
		}
		if (state.status === "uploading" && state.expiresAt !== null && Date.now() >= state.expiresAt && !this.#busy) {
			await this.#expire(state);
		}
		const current = this.#state ?? state;
		if (current.status === "expired") return { ok: false, code: "gone" };
		return current;
	}

	async #complete(state: UploadState, parts: R2UploadedPart[]): Promise<void> {
		if (parts.length === 0) {
			// R2 cannot complete a multipart upload without parts: an empty upload is a plain put.
			if (state.multipartId) await this.#abortMultipart(state);
			await this.env.RECORDINGS.put(state.r2Key, new Uint8Array(0));
		} else {
			await this.env.RECORDINGS.resumeMultipartUpload(state.r2Key, state.multipartId ?? "").complete(parts);
		}
		clearParts(this.ctx.storage.sql);
		this.#save({ ...state, status: "complete", multipartId: null, expiresAt: null });
		await finishUpload(this.env.DB, state.id, "complete", Date.now());
		await this.ctx.storage.deleteAlarm();
	}

	async #expire(state: UploadState): Promise<void> {
		await this.#discard(state);
		this.#save({ ...state, status: "expired", multipartId: null });
		await this.#ended(state.id, "expired");
		log.info("upload expired", { upload_id: state.id, offset: state.offset });
	}

	/** An upload ended without a file: its row says so, and the object clears itself after retention. */
	async #ended(id: string, status: "expired" | "terminated"): Promise<void> {
		const now = Date.now();
		await finishUpload(this.env.DB, id, status, now);
		await this.ctx.storage.setAlarm(now + Number(this.env.UPLOADS_RETENTION_DAYS) * DAY_MS);
	}

	/** Aborts the multipart upload and removes the staged remainder (both may be gone already). */
	async #discard(state: UploadState): Promise<void> {
		if (state.multipartId) await this.#abortMultipart(state);
		await this.env.RECORDINGS.delete(stagingKey(state.id, state.offset));
		clearParts(this.ctx.storage.sql);
	}

	async #abortMultipart(state: UploadState): Promise<void> {
		try {
			await this.env.RECORDINGS.resumeMultipartUpload(state.r2Key, state.multipartId ?? "").abort();
		} catch (error) {
			// Already completed or aborted: nothing is left to free.
			log.warn("multipart abort failed", { upload_id: state.id, error: errorText(error) });
		}
	}

	#saveConcat(concat: ConcatState): void {
		saveConcat(this.ctx.storage.sql, concat);
		this.#concat = concat;
	}

	#view(state: Pick<UploadState, "offset" | "length" | "status" | "expiresAt" | "metadata" | "partSize">): UploadView {
		const c = this.#concat;
		return {
			...view(state),
			concat: c === null ? null : c.kind === "final" ? { kind: "final", ids: c.ids } : { kind: "partial" },
		};
	}

	#save(state: UploadState): void {
		saveUploadState(this.ctx.storage.sql, state);
		this.#state = state;
	}
}
