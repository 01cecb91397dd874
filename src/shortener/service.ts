import type { LinkRow } from "./db";
import { addClicks, findLink, insertLink, updateLink } from "./db";
import type { LimitTarget } from "../gateway/limiter/route-limits";
import { takeTokens } from "../gateway/limiter/service";
import { AppError } from "../platform/errors";
import { errorText, log } from "../platform/log";
import { sleep } from "../platform/timeout";
import { TtlCache } from "../platform/ttl-cache";
import { ClickBuffer, checkLinkDestination, generateSlug, utcDay } from "./domain";

/** The shortener's I/O: creating links, resolving slugs through the isolate cache, counting clicks. */

export type CreateLink = {
	url: string;
	slug?: string | undefined;
	expiresAt: number | null;
	maxClicks: number | null;
	permanent: boolean;
};

/** How long an isolate trusts a resolved slug: a deleted or expired link may redirect this long. */
export const LINK_CACHE_TTL_MS = 10_000;
/** A flush waits this long so the clicks of a burst are written together. */
export const CLICK_FLUSH_DELAY_MS = 200;
/** (slug, day) pairs per D1 batch: two statements each, far below 1,000 queries per invocation. */
const CLICKS_PER_FLUSH = 200;
const MAX_FLUSH_ROUNDS = 5;
const GENERATE_ATTEMPTS = 5;
/** Redirect limits, counted by the gateway's RateLimiter objects (leases keep them off most requests). */
const PER_IP = { name: "redirect-ip", algorithm: "token_bucket", limit: 120, windowSeconds: 60, burst: 240 } as const;
const PER_LINK = {
	name: "redirect-link",
	algorithm: "token_bucket",
	limit: 1000,
	windowSeconds: 1,
	burst: 2000,
} as const;

// Isolate caches of plain data: resolved links (null = no such slug) and clicks not yet written.
const links = new TtlCache<string, LinkRow | null>({ ttlMs: LINK_CACHE_TTL_MS, maxEntries: 10_000 });
const clicks = new ClickBuffer();
let flushing = false;

/** Creates a link: a custom slug once (409 when taken), or a generated one retried on collision. */
export async function createLink(
	db: D1Database,
	tenantId: string,
	input: CreateLink,
	ownHost: string,
	now: number,
): Promise<LinkRow> {
	const destination = checkLinkDestination(input.url, { allowLoopbackHttp: false, ownHosts: [ownHost] });
	if (!destination.ok)
		throw new AppError(400, "destination_not_allowed", `This link's destination is refused: ${destination.reason}.`);
	const attempts = input.slug === undefined ? GENERATE_ATTEMPTS : 1;
	for (let i = 0; i < attempts; i++) {
		const row: LinkRow = {
			slug: input.slug ?? generateSlug(),
			tenant_id: tenantId,
			url: destination.url,
			permanent: input.permanent ? 1 : 0,
			expires_at: input.expiresAt,
			max_clicks: input.maxClicks,
			clicks: 0,
			created_at: now,
			deleted_at: null,
		};
		if (await insertLink(db, row)) {
			links.delete(row.slug);
			return row;
		}
	}
	if (input.slug !== undefined) throw new AppError(409, "slug_taken", `The slug '${input.slug}' is already taken.`);
	throw new Error(`no free slug after ${GENERATE_ATTEMPTS} attempts`);
}

export type LinkChanges = {
	url?: string | undefined;
	expiresAt?: number | null | undefined;
	maxClicks?: number | null | undefined;
	permanent?: boolean | undefined;
};

/** Changes a tenant's link (the destination checked again); null when the tenant has no such link. */
export async function changeLink(
	db: D1Database,
	current: LinkRow,
	changes: LinkChanges,
	ownHost: string,
): Promise<LinkRow | null> {
	let url = current.url;
	if (changes.url !== undefined) {
		const destination = checkLinkDestination(changes.url, { allowLoopbackHttp: false, ownHosts: [ownHost] });
		if (!destination.ok)
			throw new AppError(400, "destination_not_allowed", `This link's destination is refused: ${destination.reason}.`);
		url = destination.url;
	}
	const row = await updateLink(db, current.tenant_id, current.slug, {
		url,
		permanent: changes.permanent === undefined ? current.permanent : changes.permanent ? 1 : 0,
		expires_at: changes.expiresAt === undefined ? current.expires_at : changes.expiresAt,
		max_clicks: changes.maxClicks === undefined ? current.max_clicks : changes.maxClicks,
	});
	links.delete(current.slug);
	return row;
}

/** A slug's link for the redirect: from the isolate cache, else one indexed read (misses are cached too). */
export async function resolveLink(db: D1Database, slug: string): Promise<LinkRow | null> {
	const cached = links.get(slug);
	if (cached !== undefined) return cached;
	const row = await findLink(db, slug);
	links.set(slug, row);
	return row;
}

/** Drops a slug from this isolate's cache (other isolates keep theirs up to LINK_CACHE_TTL_MS). */
export function forgetLink(slug: string): void {
	links.delete(slug);
}

export function pendingClicks(slug: string): number {
	return clicks.pending(slug);
}

/** Counts a click; the write happens after the response, batched with the isolate's other clicks. */
export function recordClick(
	db: D1Database,
	ctx: { waitUntil(p: Promise<unknown>): void },
	slug: string,
	now: number,
): void {
	clicks.add({ slug, day: utcDay(now) });
	if (flushing) return;
	flushing = true;
	ctx.waitUntil(flushClicks(db));
}

/** 429 when the client's IP or the link is over its redirect limit; a limiter outage lets the click through. */
export async function limitRedirect(ns: Env["RATE_LIMITER"], ip: string, slug: string): Promise<void> {
	const targets: LimitTarget[] = [
		{ key: `short:ip:${ip}`, policies: [PER_IP], cost: 1, onFailure: "open" },
		{ key: `short:link:${slug}`, policies: [PER_LINK], cost: 1, onFailure: "open" },
	];
	const outcome = await takeTokens(ns, targets);
	if (outcome.allowed) return;
	const retryAfter = Math.max(1, Math.ceil((outcome.retryAfterMs ?? 1000) / 1000));
	throw new AppError(
		429,
		"rate_limited",
		`Too many redirects: ${outcome.violated.join(", ")}.`,
		{ policies: outcome.violated },
		{
			"Retry-After": String(retryAfter),
		},
	);
}

/**
 * Writes buffered clicks until the buffer is empty (bounded rounds). `flushing` is cleared in the
 * same synchronous step that finds the buffer empty, so a click added later starts its own flush.
 */
async function flushClicks(db: D1Database): Promise<void> {
	try {
		for (let round = 0; round < MAX_FLUSH_ROUNDS; round++) {
			await sleep(CLICK_FLUSH_DELAY_MS);
			const batch = clicks.take(CLICKS_PER_FLUSH);
			if (batch.length === 0) return;
			// Taken clicks leave the pending count: the cached rows carry them from now on (max_clicks).
			for (const taken of batch) {
				const row = links.get(taken.slug);
				if (row) row.clicks += taken.clicks;
			}
			try {
				await addClicks(db, batch);
			} catch (error) {
				log.warn("click counts lost", { pairs: batch.length, error: errorText(error) });
			}
		}
	} finally {
		flushing = false;
	}
}
