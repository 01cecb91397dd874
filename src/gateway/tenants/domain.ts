import { randomHex, sha256Hex } from "../../platform/crypto";

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

/** The stored form of an API key or device secret: SHA-256, hex. */
export function hashSecret(secret: string): Promise<string> {
	return sha256Hex(secret);
}
