/** Accounts' pure rules: limits, input normalisation, PHC strings, tokens' shapes, cursors, key windows. */

export type Argon2Params = { m: number; t: number; p: number };

export type ParsedHash = { params: Argon2Params; salt: Uint8Array; hash: Uint8Array };

/**
 * OWASP's Password Storage Cheat Sheet minimum for Argon2id (19 MiB, 2 passes, 1 lane). Measured
 * inside workerd with @noble/hashes (pure JS): ~250 ms of CPU per hash (docs/accounts.md).
 */
export const ARGON2_PARAMS: Argon2Params = { m: 19_456, t: 2, p: 1 };

export const ACCOUNT_LIMITS = {
	minPassword: 8,
	maxPassword: 128,
	minUsername: 3,
	maxUsername: 32,
	maxEmail: 254,
	/** Access-token lifetime (JWT `exp`). */
	accessTokenSeconds: 600,
	/** A session (its refresh-token family) ends this long after login, however it is used. */
	sessionSeconds: 30 * 86_400,
	recoveryCodes: 10,
	maxSessionsPage: 100,
	/** The signing key is replaced when it is older than this (checked when a token is signed). */
	keyRotationSeconds: 30 * 86_400,
	/**
	 * A retired key stays in the JWKS this long: access-token lifetime, plus the isolates' signer
	 * cache (a key may still sign for a minute after it was retired elsewhere), plus margin.
	 */
	retiredKeyPublishedSeconds: 600 + 60 + 240,
} as const;

export const USERNAME_PATTERN = /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/;
/** Pragmatic address shape: one @, no spaces, a dot in the domain. Deliverability is the app's concern. */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const TENANT_ID_PATTERN = /^ten_[0-9a-f]{24}$/;
export const SESSION_ID_PATTERN = /^ses_[0-9a-f]{24}$/;
export const REFRESH_TOKEN_PATTERN = /^fgr_[A-Za-z0-9_-]{43}$/;
export const EMAIL_TOKEN_PATTERN = /^fge_[A-Za-z0-9_-]{43}$/;

/**
 * Passwords refused outright (a local list, no network): the most common ones of breach corpora
 * that pass the length rule. A full breached-password check (k-anonymity range API) is not built.
 */
const COMMON_PASSWORDS = new Set([
	"12345678",
	"123456789",
	"1234567890",
	"password",
	"password1",
	"password123",
	"qwertyuiop",
	"11111111",
	"iloveyou",
	"abc12345",
	"sunshine",
	"football",
	"baseball",
	"princess",
	"welcome1",
	"letmein1",
	"passw0rd",
	"qwerty123",
	"1q2w3e4r",
	"00000000",
	"87654321",
	"superman",
	"trustno1",
	"zaq12wsx",
	"1qaz2wsx",
	"asdfghjk",
	"changeme",
]);

/** Case-insensitive identity: usernames and e-mail addresses are stored lowercased (NFKC). */
export function normalizeLogin(value: string): string {
	return value.normalize("NFKC").trim().toLowerCase();
}

/** Why a password is refused, or null. Length counts code points; every character is allowed. */
export function passwordProblem(password: string, username: string, email: string): string | null {
	// Code points, not UTF-16 units (ASVS counts characters; an emoji is one).
	const length = Array.from(password).length;
	if (length < ACCOUNT_LIMITS.minPassword) return `at least ${ACCOUNT_LIMITS.minPassword} characters`;
	if (length > ACCOUNT_LIMITS.maxPassword) return `at most ${ACCOUNT_LIMITS.maxPassword} characters`;
	const lowered = password.toLowerCase();
	if (COMMON_PASSWORDS.has(lowered)) return "too common (found in breached-password lists)";
	if (lowered === username || lowered === email || lowered === email.split("@")[0])
		return "must not be the username or e-mail address";
	return null;
}

export function encodePhc(params: Argon2Params, salt: Uint8Array, hash: Uint8Array): string {
	return `$argon2id$v=19$m=${params.m},t=${params.t},p=${params.p}$${base64NoPad(salt)}$${base64NoPad(hash)}`;
}

/** Parses `$argon2id$v=19$m=…,t=…,p=…$salt$hash`; null for anything else. */
export function parsePhc(phc: string): ParsedHash | null {
	const match = /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
	if (!match) return null;
	const salt = fromBase64NoPad(match[4] ?? "");
	const hash = fromBase64NoPad(match[5] ?? "");
	if (!salt || !hash) return null;
	return { params: { m: Number(match[1]), t: Number(match[2]), p: Number(match[3]) }, salt, hash };
}

/** A stored hash made with weaker parameters than today's is rehashed at the next successful login. */
export function needsRehash(params: Argon2Params, current: Argon2Params = ARGON2_PARAMS): boolean {
	return params.m < current.m || params.t < current.t || params.p !== current.p;
}

/** Constant-time equality of two byte strings of any length (length differences are not short-circuited). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
	let diff = a.length ^ b.length;
	for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
	return diff === 0;
}

/** Sessions list cursor: `<created_at>.<session id>` of the last row shown (newest first). */
export function encodeSessionCursor(createdAt: number, id: string): string {
	return `${createdAt}.${id}`;
}

export function decodeSessionCursor(cursor: string): { createdAt: number; id: string } | null {
	const match = /^(\d{1,16})\.(ses_[0-9a-f]{24})$/.exec(cursor);
	return match ? { createdAt: Number(match[1]), id: match[2] ?? "" } : null;
}

/** Whether a signing key belongs in the JWKS at `now` (current, or retired recently enough). */
export function isPublished(retiredAt: number | null, now: number): boolean {
	return retiredAt === null || now - retiredAt < ACCOUNT_LIMITS.retiredKeyPublishedSeconds * 1000;
}

/** Whether the current key is old enough to be replaced. */
export function rotationDue(createdAt: number, now: number): boolean {
	return now - createdAt >= ACCOUNT_LIMITS.keyRotationSeconds * 1000;
}

/** Recovery codes: 10 characters of an unambiguous alphabet, shown as `xxxxx-xxxxx` (~50 bits each). */
const RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

export function formatRecoveryCode(random: Uint8Array): string {
	const chars = Array.from(random.slice(0, 10), (b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]).join("");
	return `${chars.slice(0, 5)}-${chars.slice(5, 10)}`;
}

/** What the user typed, in the stored form (case, spaces and the dash do not matter). */
export function normalizeRecoveryCode(input: string): string {
	const chars = input.toLowerCase().replace(/[\s-]/g, "");
	return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

export function base64Url(bytes: Uint8Array): string {
	return base64NoPad(bytes).replace(/\+/g, "-").replace(/\//g, "_");
}

function base64NoPad(bytes: Uint8Array): string {
	let binary = "";
	for (const b of bytes) binary += String.fromCharCode(b);
	return btoa(binary).replace(/=+$/, "");
}

function fromBase64NoPad(text: string): Uint8Array | null {
	try {
		const binary = atob(text + "=".repeat((4 - (text.length % 4)) % 4));
		return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
	} catch {
		return null;
	}
}
