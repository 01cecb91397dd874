import type { DestinationPolicy } from "../platform/destination";
import { checkDestination } from "../platform/destination";

/** The shortener's pure rules: slugs, link states, destinations, cursors, click batches. */

export type LinkState = "active" | "expired" | "exhausted" | "deleted";
export type LinkFacts = {
	expiresAt: number | null;
	maxClicks: number | null;
	clicks: number;
	deletedAt: number | null;
};
export type ClickKey = { slug: string; day: string };

export const SLUG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const GENERATED_SLUG_LENGTH = 7;
export const CUSTOM_SLUG_PATTERN = /^[A-Za-z0-9_-]{3,64}$/;
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

/**
 * Clicks counted in this isolate and not yet written: plain counts per (slug, day), bounded.
 * `take` hands out at most `max` keys at a time so one flush stays within D1's per-invocation limits.
 */
export class ClickBuffer {
	readonly #counts = new Map<string, number>();

	add(key: ClickKey): void {
		const id = `${key.slug} ${key.day}`;
		this.#counts.set(id, (this.#counts.get(id) ?? 0) + 1);
	}

	pending(slug: string): number {
		let total = 0;
		for (const [id, n] of this.#counts) if (id.startsWith(`${slug} `)) total += n;
		return total;
	}

	take(max: number): (ClickKey & { clicks: number })[] {
		const out: (ClickKey & { clicks: number })[] = [];
		for (const [id, clicks] of this.#counts) {
			if (out.length >= max) break;
			this.#counts.delete(id);
			const [slug = "", day = ""] = id.split(" ");
			out.push({ slug, day, clicks });
		}
		return out;
	}

	get size(): number {
		return this.#counts.size;
	}
}

function defaultRandom(n: number): Uint8Array {
	return crypto.getRandomValues(new Uint8Array(n));
}
