import { fromHex, hmacSha256, toHex, verifyHmacSha256 } from "../platform/crypto";

/**
 * HMAC request signing for devices that can keep a secret. Shared by the server (verification in
 * src/devices/middleware.ts) and the device client (client/), so both build the same string.
 * Only Web Crypto is used: it runs in Workers, Node >= 20 and browsers.
 *
 * Headers: X-Floodgate-Timestamp (Unix seconds), X-Floodgate-Nonce (8-64 of [A-Za-z0-9_-]),
 * X-Floodgate-Signature (hex HMAC-SHA256 of the canonical string with the device's signing secret).
 */

export type SignedParts = {
	method: string;
	/** Path and query string exactly as sent, e.g. `/api/v1/machines/vm-1/reports?x=1`. */
	pathWithQuery: string;
	/** Unix seconds. */
	timestamp: number;
	nonce: string;
	/** Lowercase hex SHA-256 of the raw body bytes (of the empty string when there is no body). */
	bodySha256: string;
};

export const TIMESTAMP_HEADER = "X-Floodgate-Timestamp";
export const NONCE_HEADER = "X-Floodgate-Nonce";
export const SIGNATURE_HEADER = "X-Floodgate-Signature";
/** Requests whose timestamp is further than this from the server's clock are rejected. */
export const MAX_SKEW_SECONDS = 300;
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/** The exact string that is signed: one field per line, no trailing newline. */
export function canonicalString(parts: SignedParts): string {
	return [
		"FG1-HMAC-SHA256",
		parts.method.toUpperCase(),
		parts.pathWithQuery,
		String(parts.timestamp),
		parts.nonce,
		parts.bodySha256,
	].join("\n");
}

export async function signParts(secret: string, parts: SignedParts): Promise<string> {
	return toHex(await hmacSha256(secret, canonicalString(parts)));
}

/** Verifies a hex signature in constant time (HMAC verify compares inside Web Crypto). */
export async function verifyParts(secret: string, parts: SignedParts, signatureHex: string): Promise<boolean> {
	const signature = /^[0-9a-f]{64}$/i.test(signatureHex) ? fromHex(signatureHex) : null;
	if (!signature) return false;
	return verifyHmacSha256(secret, canonicalString(parts), signature);
}

/** Whether a request timestamp is within the allowed clock skew of `nowMs`. */
export function isFresh(timestampSeconds: number, nowMs: number, maxSkewSeconds = MAX_SKEW_SECONDS): boolean {
	return Number.isSafeInteger(timestampSeconds) && Math.abs(nowMs / 1000 - timestampSeconds) <= maxSkewSeconds;
}
