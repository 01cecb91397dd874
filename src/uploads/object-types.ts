/** The RPC types of a TusUpload object (durable-objects/uploads-tus-upload.ts), and its view. */
import type { Checksum, Concat } from "./domain";
import type { ObjectPart } from "../platform/r2-object";
import type { UploadState } from "./upload-db";

export type UploadView = {
	offset: number;
	length: number | null;
	status: UploadState["status"];
	expiresAt: number | null;
	metadata: string | null;
	partSize: number;
	concat: Concat | null;
};
export type Refusal = { ok: false; code: "not_found" | "gone" | "busy" };
export type Adopted =
	{ ok: true; r2Key: string; length: number } | Refusal | { ok: false; code: "incomplete"; view: UploadView };
export type CreateInit = Omit<UploadState, "offset" | "multipartId" | "status"> & {
	filename: string | null;
	filetype: string | null;
	concat: "partial" | null;
};
/** A final upload (tus concatenation): complete at once, its content its partials' objects in order. */
export type FinalInit = Pick<UploadState, "id" | "tenantId" | "r2Key" | "metadata" | "createdAt" | "partSize"> & {
	partialIds: string[];
	objects: ObjectPart[];
};
export type PatchRequest = {
	tenantId: string;
	offset: number;
	/** Upload-Length sent with this PATCH (declares a deferred length). */
	length: number | null;
	checksum: Checksum | null;
	maxPatchBytes: number;
	maxLength: number;
	expirySeconds: number;
};
export type PatchResult =
	| { ok: true; view: UploadView }
	| Refusal
	| { ok: false; code: "offset_mismatch"; offset: number }
	| { ok: false; code: "checksum_mismatch" | "too_large" | "length_invalid" | "interrupted" | "final" };

/** What an upload's state shows to callers (HEAD, PATCH answers), without its concatenation. */
export function view(
	state: Pick<UploadState, "offset" | "length" | "status" | "expiresAt" | "metadata" | "partSize">,
): Omit<UploadView, "concat"> {
	return {
		offset: state.offset,
		length: state.length,
		status: state.status,
		expiresAt: state.expiresAt,
		metadata: state.metadata,
		partSize: state.partSize,
	};
}
