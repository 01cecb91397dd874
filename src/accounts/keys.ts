import { exportJWK, generateKeyPair, importJWK } from "jose";
import type { CryptoKey, JWK } from "jose";
import { z } from "zod";
import { newId, openText, sealText } from "../platform/crypto";
import { log } from "../platform/log";
import { TtlCache } from "../platform/ttl-cache";
import { ACCOUNT_LIMITS, isPublished, rotationDue } from "./domain";
import type { SigningKeyRow } from "./keys-db";
import { findCurrentKey, insertFirstKey, listPublishedKeys, replaceCurrentKey } from "./keys-db";

/**
 * Access-token signing keys: ES256 (ECDSA P-256, which workerd's WebCrypto implements natively),
 * one current key platform-wide, its private half sealed at rest with SIGNING_SECRETS_KEY
 * (AES-256-GCM, the key id as associated data). A key older than 30 days is replaced the next time
 * a token is signed; an operator can rotate at once (POST /api/v1/auth/keys/rotate). A retired key
 * stays in the JWKS until every token it signed has expired.
 */

export const JWT_ALG = "ES256";

export type Signer = { kid: string; key: CryptoKey; createdAt: number };

const publicJwkSchema = z.object({ kty: z.literal("EC"), crv: z.literal("P-256"), x: z.string(), y: z.string() });
const privateJwkSchema = publicJwkSchema.extend({ d: z.string() });

/** How long an isolate signs with the key it loaded before asking D1 again. */
const SIGNER_CACHE_MS = 60_000;
/** How long an isolate trusts its copy of the published keys (an unknown kid reloads sooner). */
const JWKS_CACHE_MS = 60_000;
/** At most one reload for an unknown kid per this long (a forged kid must not cost a read each). */
const UNKNOWN_KID_RELOAD_MS = 2_000;

const signers = new TtlCache<"current", Signer>({ ttlMs: SIGNER_CACHE_MS, maxEntries: 1 });
const published = new TtlCache<"keys", JWK[]>({ ttlMs: JWKS_CACHE_MS, maxEntries: 1 });
let lastUnknownKidReload = 0;

/** The key to sign with now: cached, created on first use, rotated when due. */
export async function currentSigner(env: Env, now = Date.now()): Promise<Signer> {
	const cached = signers.get("current", now);
	if (cached) return cached;
	let row = await findCurrentKey(env.DB);
	if (!row) {
		await insertFirstKey(env.DB, await newKeyRow(env, now));
		row = await findCurrentKey(env.DB);
	} else if (rotationDue(row.created_at, now)) {
		await replaceCurrentKey(env.DB, await newKeyRow(env, now), row.kid);
		row = await findCurrentKey(env.DB);
		log.info("access-token signing key rotated (scheduled)", { kid: row?.kid });
	}
	if (!row) throw new Error("no current signing key after creating one");
	const signer = await signerOf(env, row);
	signers.set("current", signer, SIGNER_CACHE_MS, now);
	return signer;
}

/** Replaces the current key at once (the admin route); returns the new key id. */
export async function rotateSigningKey(env: Env, now = Date.now()): Promise<string> {
	const row = await newKeyRow(env, now);
	await replaceCurrentKey(env.DB, row, null);
	signers.delete("current");
	published.delete("keys");
	return row.kid;
}

/** The public keys to publish and verify with (current and recently retired), cached. */
export async function publishedKeys(env: Env, now = Date.now(), reload = false): Promise<JWK[]> {
	const cached = reload ? undefined : published.get("keys", now);
	if (cached) return cached;
	const rows = await listPublishedKeys(env.DB, now - ACCOUNT_LIMITS.retiredKeyPublishedSeconds * 1000);
	const keys = rows.filter((row) => isPublished(row.retired_at, now)).map(publicJwkOf);
	published.set("keys", keys, JWKS_CACHE_MS, now);
	return keys;
}

/** The published keys again when `kid` is not among them (a key made by another isolate), rate-limited. */
export async function keysIncluding(env: Env, kid: string | undefined, now = Date.now()): Promise<JWK[]> {
	const keys = await publishedKeys(env, now);
	if (kid === undefined || keys.some((k) => k.kid === kid)) return keys;
	if (now - lastUnknownKidReload < UNKNOWN_KID_RELOAD_MS) return keys;
	lastUnknownKidReload = now;
	return publishedKeys(env, now, true);
}

async function newKeyRow(env: Env, now: number): Promise<SigningKeyRow> {
	const { publicKey, privateKey } = await generateKeyPair(JWT_ALG, { extractable: true });
	const kid = newId("key");
	const publicJwk = publicJwkSchema.parse(await exportJWK(publicKey));
	const privateJwk = privateJwkSchema.parse(await exportJWK(privateKey));
	return {
		kid,
		alg: JWT_ALG,
		public_jwk: JSON.stringify(publicJwk),
		private_sealed: await sealText(env.SIGNING_SECRETS_KEY, JSON.stringify(privateJwk), sealContext(kid)),
		created_at: now,
		retired_at: null,
	};
}

async function signerOf(env: Env, row: SigningKeyRow): Promise<Signer> {
	const jwk = privateJwkSchema.parse(
		JSON.parse(await openText(env.SIGNING_SECRETS_KEY, row.private_sealed, sealContext(row.kid))),
	);
	const key = await importJWK(jwk, JWT_ALG);
	if (key instanceof Uint8Array) throw new Error("an EC JWK imported as raw bytes");
	return { kid: row.kid, key, createdAt: row.created_at };
}

function publicJwkOf(row: SigningKeyRow): JWK {
	return { ...publicJwkSchema.parse(JSON.parse(row.public_jwk)), kid: row.kid, alg: row.alg, use: "sig" };
}

function sealContext(kid: string): string {
	return `accounts/signing-key/${kid}`;
}
