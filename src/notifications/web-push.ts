import { SignJWT, base64url, importJWK } from "jose";
import { z } from "zod";

/**
 * Web Push with WebCrypto only: message encryption (RFC 8291, aes128gcm content coding of RFC 8188,
 * ECDH P-256 + HKDF-SHA-256) and the VAPID authorization (RFC 8292, an ES256 JWT via jose).
 */

export type PushSubscription = { endpoint: string; keys: { p256dh: string; auth: string } };

/** One record: the whole message fits (the payload is capped well under 4,096 − 17 bytes). */
const RECORD_SIZE = 4_096;
export const MAX_PUSH_PAYLOAD_BYTES = 3_000;
const VAPID_TTL_SECONDS = 12 * 3_600;

const vapidJwkSchema = z.object({
	kty: z.literal("EC"),
	crv: z.literal("P-256"),
	x: z.string(),
	y: z.string(),
	d: z.string(),
});

/** The aes128gcm body for one subscription: salt ‖ rs ‖ idlen ‖ keyid (our ephemeral key) ‖ ciphertext. */
export async function encryptPayload(
	subscription: PushSubscription,
	plaintext: Uint8Array,
	salt: Uint8Array<ArrayBuffer> = crypto.getRandomValues(new Uint8Array(16)),
): Promise<Uint8Array<ArrayBuffer>> {
	const uaPublic = base64url.decode(subscription.keys.p256dh);
	const authSecret = base64url.decode(subscription.keys.auth);
	const ephemeral = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
	if (!("privateKey" in ephemeral)) throw new Error("ECDH generateKey returned no key pair");
	const raw = await crypto.subtle.exportKey("raw", ephemeral.publicKey);
	if (!(raw instanceof ArrayBuffer)) throw new Error("ECDH raw export returned no bytes");
	const asPublic = new Uint8Array(raw);
	const uaKey = await crypto.subtle.importKey("raw", copy(uaPublic), { name: "ECDH", namedCurve: "P-256" }, false, []);
	// WebCrypto's member is `public` (workers-types spells it `$public`): passed as a variable.
	const ecdh = { name: "ECDH", public: uaKey };
	const ecdhSecret = new Uint8Array(await crypto.subtle.deriveBits(ecdh, ephemeral.privateKey, 256));
	const keyInfo = concat(text("WebPush: info\0"), uaPublic, asPublic);
	const ikm = await hkdf(copy(authSecret), ecdhSecret, keyInfo, 32);
	const cek = await hkdf(salt, ikm, text("Content-Encoding: aes128gcm\0"), 16);
	const nonce = await hkdf(salt, ikm, text("Content-Encoding: nonce\0"), 12);
	const key = await crypto.subtle.importKey("raw", cek, "AES-GCM", false, ["encrypt"]);
	// 0x02: the last (and only) record's padding delimiter.
	const padded = concat(plaintext, new Uint8Array([2]));
	const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce }, key, padded));
	const header = new Uint8Array(21);
	header.set(salt, 0);
	new DataView(header.buffer).setUint32(16, RECORD_SIZE);
	header[20] = asPublic.length;
	return concat(header, asPublic, ciphertext);
}

/** `Authorization: vapid t=<jwt>, k=<public key>` for the push service of `endpoint`. */
export async function vapidAuthorization(
	privateJwk: string,
	subject: string,
	endpoint: string,
	nowMs: number,
): Promise<string> {
	const jwk = vapidJwkSchema.parse(JSON.parse(privateJwk));
	const key = await importJWK(jwk, "ES256");
	const jwt = await new SignJWT({ sub: subject })
		.setProtectedHeader({ alg: "ES256", typ: "JWT" })
		.setAudience(new URL(endpoint).origin)
		.setExpirationTime(Math.floor(nowMs / 1000) + VAPID_TTL_SECONDS)
		.sign(key);
	const publicKey = concat(new Uint8Array([4]), base64url.decode(jwk.x), base64url.decode(jwk.y));
	return `vapid t=${jwt}, k=${base64url.encode(publicKey)}`;
}

async function hkdf(
	salt: Uint8Array<ArrayBuffer>,
	ikm: Uint8Array<ArrayBuffer>,
	info: Uint8Array<ArrayBuffer>,
	bytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
	const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
	return new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, key, bytes * 8));
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}

function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
	return concat(bytes);
}

function text(s: string): Uint8Array<ArrayBuffer> {
	return copy(new TextEncoder().encode(s));
}
