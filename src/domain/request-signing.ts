/**
 * HMAC request signing for devices that can keep a secret. Shared by the server (verification in
 * src/middleware/device-auth.ts) and the device client (client/), so both build the same string.
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
	return ["FG1-HMAC-SHA256", parts.method.toUpperCase(), parts.pathWithQuery, String(parts.timestamp), parts.nonce, parts.bodySha256].join("\n");
}

export async function sha256Hex(data: ArrayBuffer | Uint8Array | string): Promise<string> {
	const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
	return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

export async function signParts(secret: string, parts: SignedParts): Promise<string> {
	const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(canonicalString(parts)));
	return toHex(new Uint8Array(mac));
}

/** Verifies a hex signature in constant time (HMAC verify compares inside Web Crypto). */
export async function verifyParts(secret: string, parts: SignedParts, signatureHex: string): Promise<boolean> {
	const signature = fromHex(signatureHex);
	if (!signature) return false;
	const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
	return crypto.subtle.verify("HMAC", key, signature, new TextEncoder().encode(canonicalString(parts)));
}

/** Whether a request timestamp is within the allowed clock skew of `nowMs`. */
export function isFresh(timestampSeconds: number, nowMs: number, maxSkewSeconds = MAX_SKEW_SECONDS): boolean {
	return Number.isSafeInteger(timestampSeconds) && Math.abs(nowMs / 1000 - timestampSeconds) <= maxSkewSeconds;
}

function toHex(bytes: Uint8Array): string {
	let out = "";
	for (const b of bytes) out += b.toString(16).padStart(2, "0");
	return out;
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | null {
	if (!/^[0-9a-f]{64}$/i.test(hex)) return null;
	const out = new Uint8Array(hex.length / 2);
	for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
	return out;
}
