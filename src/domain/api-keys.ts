/**
 * API keys: `fg_live_` + 40 hex characters (160 random bits). Only a SHA-256 of the key is
 * stored: a key has enough entropy that a slow hash adds nothing, and a fast one keeps
 * verification off the request's critical path.
 */

const KEY_PATTERN = /^fg_live_[0-9a-f]{40}$/;
const PREFIX_LENGTH = 12;

export function generateApiKey(): string {
	return `fg_live_${randomHex(20)}`;
}

export function isWellFormedApiKey(candidate: string): boolean {
	return KEY_PATTERN.test(candidate);
}

/** The part of a key that may be shown again in listings. */
export function keyPrefix(key: string): string {
	return key.slice(0, PREFIX_LENGTH);
}

export async function hashSecret(secret: string): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
	return toHex(new Uint8Array(digest));
}

/** An opaque id with a type prefix, e.g. `ten_3f9c…`. */
export function newId(prefix: string): string {
	return `${prefix}_${randomHex(12)}`;
}

export function randomHex(bytes: number): string {
	return toHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

function toHex(bytes: Uint8Array): string {
	let out = "";
	for (const b of bytes) out += b.toString(16).padStart(2, "0");
	return out;
}
