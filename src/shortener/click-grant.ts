import type { LinkCapCounter } from "../../durable-objects/shortener-link-cap-counter";
import { AppError } from "../platform/errors";
import { errorText, log } from "../platform/log";
import { withTimeout } from "../platform/timeout";
import { TtlCache } from "../platform/ttl-cache";
import type { GrantAsk, GrantResult } from "./cap-counter";
import type { LinkRow } from "./db";
import { findCountedClicks } from "./db";
import { LINK_CACHE_TTL_MS } from "./service";

/**
 * The authority for max_clicks: before a capped link redirects, it takes a grant from its
 * LinkCapCounter object (one RPC; two on the counter's first use, with a fresh D1 read between to
 * seed it). Uncapped links never come here. An unreachable counter fails closed (503): a capped
 * link never redirects without a grant. The analytics clicks (queue → D1) are counted as before.
 */

type Namespace = DurableObjectNamespace<LinkCapCounter>;

/** A grant waits this long for the object; a grant taken after the deadline is lost (the cap errs low). */
export const GRANT_TIMEOUT_MS = 3000;
const RETRY_AFTER_SECONDS = 2;

// Isolate cache of plain data: counters that answered "exhausted", with the count they had then. A
// count never goes down, so a cap at or below it is refused here without another object call (a
// cap raised by PATCH is above it and asks the object again).
const exhausted = new TtlCache<string, number>({ ttlMs: LINK_CACHE_TTL_MS, maxEntries: 10_000 });

/** True when `link` (capped at `cap`) may redirect once more; false when it has used every click. */
export async function takeClickGrant(ns: Namespace, db: D1Database, link: LinkRow, cap: number): Promise<boolean> {
	const name = counterName(link);
	const known = exhausted.get(name);
	if (known !== undefined && cap <= known) return false;
	const stub = ns.getByName(name);
	let result: GrantResult;
	try {
		result = await ask(stub, { cap, counted: link.clicks, fresh: false });
		if (!result.ok && result.code === "unseeded") {
			// First use: seed from what D1 has counted now (a link capped before the counter existed
			// keeps the clicks it already had), never from the isolate's up to 10 s old row.
			const counted = (await findCountedClicks(db, link.slug)) ?? link.clicks;
			result = await ask(stub, { cap, counted, fresh: true });
		}
	} catch (error) {
		log.error("click cap counter unavailable", { slug: link.slug, error: errorText(error) });
		throw counterUnavailable(link.slug);
	}
	if (result.ok) return true;
	if (result.code === "exhausted") exhausted.set(name, result.granted);
	return false;
}

/** Tenant and slug: slugs are unique and never reused, the tenant keeps every counter to its owner. */
export function counterName(link: Pick<LinkRow, "tenant_id" | "slug">): string {
	return `${link.tenant_id}:${link.slug}`;
}

function ask(stub: DurableObjectStub<LinkCapCounter>, grant: GrantAsk): Promise<GrantResult> {
	return withTimeout<GrantResult>(stub.take(grant), GRANT_TIMEOUT_MS, "click cap counter");
}

function counterUnavailable(slug: string): AppError {
	return new AppError(
		503,
		"click_cap_unavailable",
		`Short link '${slug}' has a click limit whose counter cannot be reached; nothing was redirected. Try again shortly.`,
		{ retry_after_seconds: RETRY_AFTER_SECONDS },
		{ "Retry-After": String(RETRY_AFTER_SECONDS), "Cache-Control": "no-store" },
	);
}
