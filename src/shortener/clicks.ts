import { z } from "zod";

/**
 * The shortener's click analytics, pure: what a redirect records about a click (UTC day, country,
 * referrer host, device class), the isolate buffer that aggregates clicks before they are sent to
 * floodgate-clicks, and the message schema the consumer validates.
 */

export type DeviceClass = "mobile" | "tablet" | "desktop" | "bot";
export type ClickFacts = { slug: string; day: string; country: string; referrer: string; device: DeviceClass };
export type ClickEntry = ClickFacts & { n: number };

/** Entries per queue message: ~150 bytes each, so ~30 KB (far below 128 KB), one json_each per statement. */
export const ENTRIES_PER_MESSAGE = 200;
/** Referrer value of a click without a usable Referer header (typed, bookmarked, app, stripped). */
export const DIRECT = "(direct)";
/** Country value when Cloudflare did not say (local runs, some Tor exits: Cloudflare's own "XX"/"T1" are kept). */
export const UNKNOWN_COUNTRY = "XX";

const DEVICE_CLASSES = ["mobile", "tablet", "desktop", "bot"] as const;
/**
 * A small, documented heuristic rather than a full UA parser (none is installed): automated
 * clients first (crawlers, link unfurlers, HTTP libraries, headless browsers, an empty UA), then
 * tablets (iPad, Android without "Mobile", Kindle/Silk, "Tablet"), then phones ("Mobi", iPhone,
 * iPod, Android, Windows Phone, BlackBerry, Opera Mini); everything else is a desktop.
 */
const BOT_UA =
	/bot\b|bot\/|crawl|spider|slurp|facebookexternalhit|embedly|preview|curl\/|wget\/|python-|httpclient|okhttp|go-http-client|java\/|node-fetch|undici|axios|headless|phantomjs|lighthouse/i;
const TABLET_UA = /ipad|tablet|kindle|silk\/|playbook|android(?!.*mobile)/i;
const MOBILE_UA = /mobi|iphone|ipod|android|windows phone|blackberry|bb10|opera mini|iemobile/i;
const MAX_REFERRER_HOST = 253;

export function deviceClass(userAgent: string | null | undefined): DeviceClass {
	const ua = (userAgent ?? "").trim();
	if (ua === "" || BOT_UA.test(ua)) return "bot";
	if (TABLET_UA.test(ua)) return "tablet";
	if (MOBILE_UA.test(ua)) return "mobile";
	return "desktop";
}

/** The Referer's host only (never its path or query: they may carry personal data); DIRECT when absent or unusable. */
export function referrerHost(referer: string | null | undefined): string {
	if (!referer) return DIRECT;
	try {
		const url = new URL(referer);
		if (url.protocol !== "http:" && url.protocol !== "https:") return DIRECT;
		const host = url.hostname.toLowerCase();
		return host === "" || host.length > MAX_REFERRER_HOST ? DIRECT : host;
	} catch {
		return DIRECT;
	}
}

/** Cloudflare's two-letter country (request.cf.country), upper-cased; UNKNOWN_COUNTRY otherwise. */
export function countryCode(country: unknown): string {
	return typeof country === "string" && /^[A-Za-z0-9]{2}$/.test(country) ? country.toUpperCase() : UNKNOWN_COUNTRY;
}

export const clickMessageSchema = z
	.object({
		id: z.string().regex(/^[0-9a-f-]{36}$/),
		entries: z
			.array(
				z
					.object({
						slug: z.string().regex(/^[A-Za-z0-9_-]{3,64}$/),
						day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
						country: z.string().regex(/^[A-Z0-9]{2}$/),
						referrer: z.string().min(1).max(MAX_REFERRER_HOST),
						device: z.enum(DEVICE_CLASSES),
						n: z.number().int().positive().max(1_000_000_000),
					})
					.strict(),
			)
			.min(1)
			.max(ENTRIES_PER_MESSAGE),
	})
	.strict();
export type ClickMessage = z.infer<typeof clickMessageSchema>;

/**
 * Clicks counted in this isolate and not yet sent: counts per (slug, day, country, referrer,
 * device), plus a per-slug total for max_clicks. `take` hands out at most `max` entries at a time.
 */
export class ClickBuffer {
	readonly #entries = new Map<string, ClickEntry>();
	readonly #perSlug = new Map<string, number>();

	add(click: ClickFacts): void {
		const key = `${click.slug} ${click.day} ${click.country} ${click.device} ${click.referrer}`;
		const entry = this.#entries.get(key);
		if (entry) entry.n += 1;
		else this.#entries.set(key, { ...click, n: 1 });
		this.#perSlug.set(click.slug, (this.#perSlug.get(click.slug) ?? 0) + 1);
	}

	pending(slug: string): number {
		return this.#perSlug.get(slug) ?? 0;
	}

	take(max: number): ClickEntry[] {
		const out: ClickEntry[] = [];
		for (const [key, entry] of this.#entries) {
			if (out.length >= max) break;
			this.#entries.delete(key);
			const left = (this.#perSlug.get(entry.slug) ?? 0) - entry.n;
			if (left > 0) this.#perSlug.set(entry.slug, left);
			else this.#perSlug.delete(entry.slug);
			out.push(entry);
		}
		return out;
	}

	get size(): number {
		return this.#entries.size;
	}
}

/** Per-slug click totals of taken entries (what the sender adds to its cached rows for max_clicks). */
export function clicksPerSlug(entries: readonly ClickEntry[]): Map<string, number> {
	const totals = new Map<string, number>();
	for (const e of entries) totals.set(e.slug, (totals.get(e.slug) ?? 0) + e.n);
	return totals;
}
