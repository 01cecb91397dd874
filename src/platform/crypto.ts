/**
 * The one home of hashing, hex and random ids. Web Crypto only: the same code runs in the Worker,
 * in Durable Objects and in the device client.
 */

const encoder = new TextEncoder();
/** "00" … "ff": every API-key check hashes, and a table lookup per byte beat toString + padStart in the profile. */
const HEX_BYTES = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

export function toHex(bytes: Uint8Array): string {
	let out = "";
	for (const b of bytes) out += HEX_BYTES[b];
	return out;
}

/** Parses lowercase or uppercase hex of an even length; null for anything else. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> | null {
	if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return null;
	const out = new Uint8Array(hex.length / 2);
	for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
	return out;
}

export function randomHex(bytes: number): string {
	return toHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** An opaque id with a type prefix, e.g. `ten_3f9c…` (96 random bits). */
export function newId(prefix: string): string {
	return `${prefix}_${randomHex(12)}`;
}

export async function sha256Hex(data: ArrayBuffer | Uint8Array<ArrayBuffer> | string): Promise<string> {
	const bytes = typeof data === "string" ? encoder.encode(data) : data;
	return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

export async function hmacSha256(secret: string, message: string): Promise<Uint8Array<ArrayBuffer>> {
	const key = await hmacKey(secret, "sign");
	return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

/** Verifies a MAC in constant time (the comparison happens inside Web Crypto). */
export async function verifyHmacSha256(
	secret: string,
	message: string,
	mac: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
	const key = await hmacKey(secret, "verify");
	return crypto.subtle.verify("HMAC", key, mac, encoder.encode(message));
}

/** Constant-time equality of two strings (false at once when the lengths differ). */
export function timingSafeEqualText(a: string, b: string): boolean {
	const left = encoder.encode(a);
	const right = encoder.encode(b);
	return left.byteLength === right.byteLength && crypto.subtle.timingSafeEqual(left, right);
}

function hmacKey(secret: string, use: "sign" | "verify"): Promise<CryptoKey> {
	return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [use]);
}

export function toBase64(bytes: Uint8Array): string {
	let binary = "";
	for (const b of bytes) binary += String.fromCharCode(b);
	return btoa(binary);
}

/** Standard base64 (with or without padding); null for anything else. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
	if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
	try {
		const binary = atob(text);
		const out = new Uint8Array(binary.length);
		for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
		return out;
	} catch {
		return null;
	}
}

const SEAL_VERSION = "v1";

/**
 * Encrypts a secret for storage (AES-256-GCM, a key derived with HKDF from `master`, a random
 * 96-bit IV). `context` (e.g. tenant and row id) is authenticated, so a sealed value copied to
 * another row or tenant no longer opens.
 */
export async function sealText(master: string, plaintext: string, context: string): Promise<string> {
	const iv = crypto.getRandomValues(new Uint8Array(12));
	const sealed = await crypto.subtle.encrypt(
		{ name: "AES-GCM", iv, additionalData: encoder.encode(context) },
		await sealingKey(master),
		encoder.encode(plaintext),
	);
	return `${SEAL_VERSION}.${toBase64(iv)}.${toBase64(new Uint8Array(sealed))}`;
}

/** The plaintext of `sealText`'s output; throws when the key, the context or the data is wrong. */
export async function openText(master: string, sealed: string, context: string): Promise<string> {
	const [version, ivText, dataText] = sealed.split(".");
	const iv = fromBase64(ivText ?? "");
	const data = fromBase64(dataText ?? "");
	if (version !== SEAL_VERSION || !iv || !data) throw new Error("not a sealed value");
	const plain = await crypto.subtle.decrypt(
		{ name: "AES-GCM", iv, additionalData: encoder.encode(context) },
		await sealingKey(master),
		data,
	);
	return new TextDecoder().decode(plain);
}

// The derived key of the last master seen (one per deployment; two during a rotation): HKDF and
// two imports per sealed value were the most CPU a webhook delivery spent before its POST. Only the
// finished CryptoKey is kept (a plain value), never a pending promise another request would await.
let lastSealingKey: { master: string; key: CryptoKey } | null = null;

async function sealingKey(master: string): Promise<CryptoKey> {
	if (lastSealingKey?.master === master) return lastSealingKey.key;
	const key = await deriveSealingKey(master);
	lastSealingKey = { master, key };
	return key;
}

async function deriveSealingKey(master: string): Promise<CryptoKey> {
	const base = await crypto.subtle.importKey("raw", encoder.encode(master), "HKDF", false, ["deriveKey"]);
	return crypto.subtle.deriveKey(
		{ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode("floodgate/sealed-secrets/v1") },
		base,
		{ name: "AES-GCM", length: 256 },
		false,
		["encrypt", "decrypt"],
	);
}
