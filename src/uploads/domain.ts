/**
 * The tus 1.0 protocol's pure parts (https://tus.io/protocols/resumable-upload): header parsing,
 * part sizing for R2 multipart, byte ranges. No I/O; unit-tested in test/unit/uploads/.
 */

export type ChecksumAlgorithm = "sha1" | "sha256";
export type Checksum = { algorithm: ChecksumAlgorithm; digest: Uint8Array };
export type ByteRange = { offset: number; length: number };
/** Upload-Concat on creation: a partial upload, or a final one made of partials (by id, in order). */
export type Concat = { kind: "partial" } | { kind: "final"; ids: string[] };
export type UploadStatus = "uploading" | "complete" | "expired" | "terminated" | "failed";

export const TUS_VERSION = "1.0.0";
export const TUS_EXTENSIONS = [
	"creation",
	"creation-with-upload",
	"creation-defer-length",
	"expiration",
	"checksum",
	"termination",
	"concatenation",
].join(",");
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ["sha1", "sha256"];
export const OFFSET_OCTET_STREAM = "application/offset+octet-stream";
/** R2 allows 10,000 parts; sizing for 9,000 leaves room for a length that grows (deferred) or rounding. */
export const TARGET_MAX_PARTS = 9000;
export const R2_MAX_PARTS = 10_000;
const MIB = 1024 * 1024;
/** R2 parts (all but the last) are at least 5 MiB and all the same size. */
export const R2_MIN_PART_BYTES = 5 * MIB;
/** Partial uploads one final upload may join (each is one R2 read per request that spans it). */
export const MAX_CONCAT_PARTS = 50;
const UPLOAD_PATH = /^\/api\/v1\/uploads\/(upl_[0-9a-f]{24})$/;
const DIGITS = /^(?:0|[1-9][0-9]{0,15})$/;
const METADATA_KEY = /^[^\s,]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The part size of an upload, fixed at creation: at least R2's minimum (5 MiB; local R2 enforces
 * it too), large enough that `length` needs at most TARGET_MAX_PARTS parts, in whole MiB.
 */
export function partSizeFor(length: number): number {
	const needed = Math.ceil(Math.max(length, 1) / TARGET_MAX_PARTS);
	return Math.max(R2_MIN_PART_BYTES, Math.ceil(needed / MIB) * MIB);
}

/** A non-negative integer header (Upload-Length, Upload-Offset), or null when absent or malformed. */
export function parseByteCount(header: string | undefined): number | null {
	if (header === undefined || !DIGITS.test(header.trim())) return null;
	const value = Number(header.trim());
	return Number.isSafeInteger(value) ? value : null;
}

/**
 * Upload-Metadata: comma-separated `key base64value` pairs (the value may be absent). Null when
 * malformed (a key twice, bad base64, a value that is not UTF-8).
 */
export function parseMetadata(header: string | undefined): Record<string, string> | null {
	const metadata: Record<string, string> = {};
	if (header === undefined || header.trim() === "") return metadata;
	for (const pair of header.split(",")) {
		const [key, value, ...rest] = pair.trim().split(" ");
		if (key === undefined || !METADATA_KEY.test(key) || rest.length > 0 || Object.hasOwn(metadata, key)) return null;
		const text = value === undefined ? "" : decodeBase64Text(value);
		if (text === null) return null;
		metadata[key] = text;
	}
	return metadata;
}

/**
 * Upload-Concat (tus concatenation): `partial`, or `final;<url> <url> …` with the partial uploads'
 * URLs (absolute, or paths resolved against `base`) in order. Null when malformed, or a final with
 * no partial, more than MAX_CONCAT_PARTS, or one URL twice.
 */
export function parseConcat(header: string, base: string): Concat | null {
	const value = header.trim();
	if (value === "partial") return { kind: "partial" };
	if (!value.startsWith("final;")) return null;
	const urls = value
		.slice("final;".length)
		.trim()
		.split(/\s+/)
		.filter((u) => u !== "");
	const ids: string[] = [];
	for (const url of urls) {
		let path: string;
		try {
			path = new URL(url, base).pathname;
		} catch {
			return null;
		}
		const id = UPLOAD_PATH.exec(path)?.[1];
		if (id === undefined || ids.includes(id)) return null;
		ids.push(id);
	}
	return ids.length === 0 || ids.length > MAX_CONCAT_PARTS ? null : { kind: "final", ids };
}

/** Upload-Checksum: `<algorithm> <base64 digest>`; "unsupported" for an algorithm we do not offer. */
export function parseChecksum(header: string): Checksum | "unsupported" | null {
	const [name, encoded, ...rest] = header.trim().split(" ");
	if (name === undefined || encoded === undefined || rest.length > 0) return null;
	const algorithm = CHECKSUM_ALGORITHMS.find((a) => a === name.toLowerCase());
	if (!algorithm) return "unsupported";
	const digest = decodeBase64(encoded);
	if (!digest || digest.length !== (algorithm === "sha1" ? 20 : 32)) return null;
	return { algorithm, digest };
}

/** The Web Crypto name of a tus checksum algorithm. */
export function digestName(algorithm: ChecksumAlgorithm): "SHA-1" | "SHA-256" {
	return algorithm === "sha1" ? "SHA-1" : "SHA-256";
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
	if (a.length !== b.length) return false;
	let diff = 0;
	for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
	return diff === 0;
}

/** Upload-Expires is an RFC 9110 HTTP date. */
export function httpDate(epochMs: number): string {
	return new Date(epochMs).toUTCString();
}

/** The R2 key of a finished upload. */
export function objectKey(tenantId: string, uploadId: string): string {
	return `uploads/${tenantId}/${uploadId}`;
}

/** The R2 key of the bytes received after the last full part, up to `offset` (a new key per offset, so a crash between writing it and saving the offset never mixes two remainders). */
export function stagingKey(uploadId: string, offset: number): string {
	return `staging/${uploadId}/${offset}`;
}

function decodeBase64(text: string): Uint8Array | null {
	if (!BASE64.test(text) || text.length % 4 === 1) return null;
	try {
		return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
	} catch {
		return null;
	}
}

function decodeBase64Text(text: string): string | null {
	const bytes = decodeBase64(text);
	if (!bytes) return null;
	try {
		return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
	} catch {
		return null;
	}
}
