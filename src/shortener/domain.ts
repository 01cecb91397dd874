import type { DestinationPolicy } from "../platform/destination";
import { checkDestination } from "../platform/destination";

/** The shortener's pure rules: slugs, link states, destinations, cursors, tags. */

export type LinkState = "active" | "expired" | "exhausted" | "deleted";
export type LinkFacts = {
	expiresAt: number | null;
	maxClicks: number | null;
	clicks: number;
	deletedAt: number | null;
};

export const SLUG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const GENERATED_SLUG_LENGTH = 7;
export const CUSTOM_SLUG_PATTERN = /^[A-Za-z0-9_-]{3,64}$/;
/** Tags: up to 10 a link, each 1-32 of [a-z0-9_-]; `?tag=` lists the links carrying one. */
export const TAG_PATTERN = /^[a-z0-9_-]{1,32}$/;
export const MAX_TAGS = 10;
/** The largest multiple of 62 below 256: bytes at or above it are dropped so every character is equally likely. */
const UNBIASED_BYTE_LIMIT = 248;

/**
 * A random base62 slug (7 characters ≈ 41.7 bits). Random rather than a counter: a counter's slugs
 * are enumerable (anyone could walk every tenant's links) and need one coordinated sequence.
 * Rejection sampling keeps the distribution uniform; the caller retries on a (rare) collision.
 */
export function generateSlug(randomBytes: (n: number) => Uint8Array = defaultRandom, length = GENERATED_SLUG_LENGTH) {
	let slug = "";
	while (slug.length < length) {
		for (const byte of randomBytes(length * 2)) {
			if (byte >= UNBIASED_BYTE_LIMIT) continue;
			slug += SLUG_ALPHABET[byte % 62] ?? "";
			if (slug.length === length) break;
		}
	}
	return slug;
}

/**
 * A link's destination: http(s) only, never a private, loopback, metadata or platform address.
 * Plain http is allowed to public hosts (the platform never fetches a link's destination; the
 * visitor's browser does), so the host is checked under the https policy.
 */
export function checkLinkDestination(
	raw: string,
	policy: DestinationPolicy,
): { ok: true; url: string } | { ok: false; reason: string } {
	let parsed: URL;
	try {
		parsed = new URL(raw);
	} catch {
		return { ok: false, reason: "not a valid absolute URL" };
	}
	if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
		return { ok: false, reason: "only http and https URLs are allowed" };
	const asHttps = new URL(parsed.href);
	asHttps.protocol = "https:";
	const check = checkDestination(asHttps.href, { ...policy, allowLoopbackHttp: false });
	return check.ok ? { ok: true, url: parsed.href } : { ok: false, reason: check.reason };
}

/** Whether a link still redirects at `now`; `pendingClicks` are counted but not yet written. */
export function linkState(link: LinkFacts, now: number, pendingClicks = 0): LinkState {
	if (link.deletedAt !== null) return "deleted";
	if (link.expiresAt !== null && link.expiresAt <= now) return "expired";
	if (link.maxClicks !== null && link.clicks + pendingClicks >= link.maxClicks) return "exhausted";
	return "active";
}

/** The UTC day of an instant, as stored in link_clicks_daily. */
export function utcDay(ms: number): string {
	return new Date(ms).toISOString().slice(0, 10);
}

export function encodeCursor(createdAt: number, slug: string): string {
	return `${createdAt}.${slug}`;
}

export function decodeCursor(cursor: string): { createdAt: number; slug: string } | null {
	const match = /^(\d{1,16})\.([A-Za-z0-9_-]{3,64})$/.exec(cursor);
	if (!match?.[1] || !match[2]) return null;
	return { createdAt: Number(match[1]), slug: match[2] };
}

/** A link's tags without repeats, in the order given (the caller has checked each against TAG_PATTERN). */
export function uniqueTags(tags: readonly string[]): string[] {
	return [...new Set(tags)];
}

function defaultRandom(n: number): Uint8Array {
	return crypto.getRandomValues(new Uint8Array(n));
}
