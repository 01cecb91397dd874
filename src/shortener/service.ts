import { hashPassword, verifyPassword } from "../accounts/password";
import type { LimitTarget } from "../gateway/limiter/route-limits";
import { takeTokens } from "../gateway/limiter/service";
import { AppError } from "../platform/errors";
import { TtlCache } from "../platform/ttl-cache";
import type { LinkFields, LinkRow } from "./db";
import { findLink, insertLink, updateLink } from "./db";
import { checkLinkDestination, generateSlug, uniqueTags } from "./domain";
import { deleteEdgeLink, readEdgeLink, writeEdgeLink } from "./edge-cache";
import { giveBackRedirectUnit, takeRedirectUnit } from "./redirect-limiter";

/** The shortener's I/O: creating and changing links, resolving slugs through the caches, the redirect limits. */

export type CreateLink = {
	url: string;
	slug?: string | undefined;
	expiresAt: number | null;
	maxClicks: number | null;
	permanent: boolean;
	password: string | null;
	tags: string[];
};
export type LinkChanges = {
	url?: string | undefined;
	expiresAt?: number | null | undefined;
	maxClicks?: number | null | undefined;
	permanent?: boolean | undefined;
	/** A new password, or null to remove the protection. */
	password?: string | null | undefined;
	tags?: string[] | undefined;
};
type WaitUntil = { waitUntil(p: Promise<unknown>): void };
type Policy = LimitTarget["policies"][number];

/** How long an isolate trusts a resolved slug: a deleted or expired link may redirect this long. */
export const LINK_CACHE_TTL_MS = 10_000;
const GENERATE_ATTEMPTS = 5;
/** Redirect limits, counted by the gateway's RateLimiter objects (leases keep them off most requests). */
const PER_IP: Policy = {
	name: "redirect-ip",
	algorithm: "token_bucket",
	limit: 120,
	windowSeconds: 60,
	burst: 240,
};
const PER_LINK: Policy = {
	name: "redirect-link",
	algorithm: "token_bucket",
	limit: 1000,
	windowSeconds: 1,
	burst: 2000,
};
/** Password guesses: 10 a minute per client IP, 60 a minute per link (against distributed guessing). */
const PASSWORD_PER_IP: Policy = {
	name: "link-password-ip",
	algorithm: "token_bucket",
	limit: 10,
	windowSeconds: 60,
	burst: 10,
};
const PASSWORD_PER_LINK: Policy = {
	name: "link-password-link",
	algorithm: "token_bucket",
	limit: 60,
	windowSeconds: 60,
	burst: 60,
};

// Isolate cache of plain data: resolved links (null = no such slug).
const links = new TtlCache<string, LinkRow | null>({ ttlMs: LINK_CACHE_TTL_MS, maxEntries: 10_000 });

/** Creates a link: a custom slug once (409 when taken), or a generated one retried on collision. */
export async function createLink(
	db: D1Database,
	tenantId: string,
	input: CreateLink,
	ownHost: string,
	now: number,
): Promise<LinkRow> {
	const url = allowedDestination(input.url, ownHost);
	const passwordHash = input.password === null ? null : hashPassword(input.password);
	const tags = JSON.stringify(uniqueTags(input.tags));
	const attempts = input.slug === undefined ? GENERATE_ATTEMPTS : 1;
	for (let i = 0; i < attempts; i++) {
		const row: LinkRow = {
			slug: input.slug ?? generateSlug(),
			tenant_id: tenantId,
			url,
			permanent: input.permanent ? 1 : 0,
			expires_at: input.expiresAt,
			max_clicks: input.maxClicks,
			clicks: 0,
			created_at: now,
			deleted_at: null,
			password_hash: passwordHash,
			tags,
		};
		if (await insertLink(db, row)) {
			links.delete(row.slug);
			return row;
		}
	}
	if (input.slug !== undefined) throw new AppError(409, "slug_taken", `The slug '${input.slug}' is already taken.`);
	throw new Error(`no free slug after ${GENERATE_ATTEMPTS} attempts`);
}

/** Changes a tenant's link (the destination checked again); null when the tenant has no such link. */
export async function changeLink(
	db: D1Database,
	current: LinkRow,
	changes: LinkChanges,
	ownHost: string,
): Promise<LinkRow | null> {
	const fields: LinkFields = {
		url: changes.url === undefined ? current.url : allowedDestination(changes.url, ownHost),
		permanent: changes.permanent === undefined ? current.permanent : changes.permanent ? 1 : 0,
		expires_at: changes.expiresAt === undefined ? current.expires_at : changes.expiresAt,
		max_clicks: changes.maxClicks === undefined ? current.max_clicks : changes.maxClicks,
		password_hash:
			changes.password === undefined
				? current.password_hash
				: changes.password === null
					? null
					: hashPassword(changes.password),
		tags: changes.tags === undefined ? current.tags : JSON.stringify(uniqueTags(changes.tags)),
	};
	const row = await updateLink(db, current.tenant_id, current.slug, fields);
	await forgetLink(current.slug);
	return row;
}

/**
 * A slug's link for the redirect: from the isolate cache, else the data centre's edge cache, else
 * one indexed D1 read (then kept in both; a miss, or a link with max_clicks, only in the isolate).
 * A hot link costs no D1 read.
 */
export async function resolveLink(db: D1Database, ctx: WaitUntil, slug: string): Promise<LinkRow | null> {
	const cached = links.get(slug);
	if (cached !== undefined) return cached;
	const edge = await readEdgeLink(slug);
	if (edge) {
		links.set(slug, edge);
		return edge;
	}
	const row = await findLink(db, slug);
	links.set(slug, row);
	// A click-capped link stays out of the edge cache: its count there would be up to EDGE_TTL_SECONDS old.
	if (row && row.max_clicks === null) ctx.waitUntil(writeEdgeLink(row));
	return row;
}

/** Drops a slug from this isolate's cache and this data centre's edge cache (after a change or delete). */
export async function forgetLink(slug: string): Promise<void> {
	links.delete(slug);
	await deleteEdgeLink(slug);
}

/** Clicks sent since a row was cached count toward its max_clicks (the cached count would not see them). */
export function addSentClicks(perSlug: Map<string, number>): void {
	for (const [slug, n] of perSlug) {
		const row = links.get(slug);
		if (row) row.clicks += n;
	}
}

/**
 * 429 when the client's IP or the link is over its redirect limit; a limiter outage lets the click
 * through. Counted from isolate leases (redirect-limiter.ts): no object call on the common path.
 */
export async function limitRedirect(ns: Env["RATE_LIMITER"], ctx: WaitUntil, ip: string, slug: string): Promise<void> {
	const ipKey = `short:ip:${ip}`;
	const byIp = await takeRedirectUnit(ns, ctx, ipKey, PER_IP);
	if (!byIp.allowed) throw tooManyRequests(byIp.violated, byIp.retryAfterMs);
	const byLink = await takeRedirectUnit(ns, ctx, `short:link:${slug}`, PER_LINK);
	if (byLink.allowed) return;
	giveBackRedirectUnit(ipKey, byIp);
	throw tooManyRequests(byLink.violated, byLink.retryAfterMs);
}

/**
 * 429 when the client's IP or the link is over its password-attempt limit. Fails closed: an
 * unlimited guesser is worse than a visitor asked to retry while the limiter is down.
 */
export async function limitPasswordAttempts(ns: Env["RATE_LIMITER"], ip: string, slug: string): Promise<void> {
	await limit(ns, [
		{ key: `short:pw-ip:${ip}`, policies: [PASSWORD_PER_IP], cost: 1, onFailure: "closed" },
		{ key: `short:pw-link:${slug}`, policies: [PASSWORD_PER_LINK], cost: 1, onFailure: "closed" },
	]);
}

/** Whether `password` opens the link (Argon2id with the stored hash's own parameters). */
export function passwordOpens(link: LinkRow, password: string): boolean {
	return link.password_hash !== null && verifyPassword(password, link.password_hash).ok;
}

function allowedDestination(raw: string, ownHost: string): string {
	const destination = checkLinkDestination(raw, { allowLoopbackHttp: false, ownHosts: [ownHost] });
	if (!destination.ok)
		throw new AppError(400, "destination_not_allowed", `This link's destination is refused: ${destination.reason}.`);
	return destination.url;
}

async function limit(ns: Env["RATE_LIMITER"], targets: LimitTarget[]): Promise<void> {
	const outcome = await takeTokens(ns, targets);
	if (!outcome.allowed) throw tooManyRequests(outcome.violated, outcome.retryAfterMs);
}

function tooManyRequests(violated: string[], retryAfterMs: number | null): AppError {
	const retryAfter = Math.max(1, Math.ceil((retryAfterMs ?? 1000) / 1000));
	return new AppError(
		429,
		"rate_limited",
		`Too many requests: ${violated.join(", ")}.`,
		{ policies: violated },
		{ "Retry-After": String(retryAfter) },
	);
}
