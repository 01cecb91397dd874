import { argon2id } from "@noble/hashes/argon2.js";
import type { Argon2Params } from "./domain";
import { ARGON2_PARAMS, constantTimeEqual, encodePhc, needsRehash, parsePhc } from "./domain";

/**
 * Argon2id password hashing in pure JavaScript (@noble/hashes): Workers cannot compile WebAssembly
 * from bytes at run time (most Argon2 WASM packages do that) and workerd caps PBKDF2 at 100,000
 * iterations, a sixth of OWASP's figure for PBKDF2-SHA256. Synchronous on purpose: the async
 * variant yields between blocks, so concurrent logins in one isolate would each hold 19 MiB at once.
 */

export type PasswordCheck = { ok: boolean; rehash: boolean };

const SALT_BYTES = 16;
const HASH_BYTES = 32;

/** Compared against when the account does not exist, so that path costs one full hash as well. */
let decoy: string | null = null;

export function hashPassword(password: string, params: Argon2Params = ARGON2_PARAMS): string {
	const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
	return encodePhc(params, salt, argon2id(password, salt, { ...params, dkLen: HASH_BYTES }));
}

/** Verifies with the stored hash's own parameters; `rehash` when they are below today's. */
export function verifyPassword(password: string, phc: string): PasswordCheck {
	const parsed = parsePhc(phc);
	if (!parsed) return { ok: false, rehash: false };
	const actual = argon2id(password, parsed.salt, { ...parsed.params, dkLen: parsed.hash.length });
	const ok = constantTimeEqual(actual, parsed.hash);
	return { ok, rehash: ok && needsRehash(parsed.params) };
}

/** Spends the same work as a real check for an unknown account; always false. */
export function verifyAgainstDecoy(password: string): false {
	decoy ??= hashPassword("floodgate-decoy-password");
	verifyPassword(password, decoy);
	return false;
}
