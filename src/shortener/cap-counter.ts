/**
 * The rule of a capped link's grant counter (pure; the LinkCapCounter object keeps its state).
 * `granted` is the count of redirects the link has been granted, never lowered; null until the
 * counter is seeded. A grant asks with the link's current cap (so a PATCH of max_clicks takes effect
 * with the next grant) and the clicks its caller knows were counted in D1 (a floor: the count never
 * stays below clicks that really happened, e.g. while the link was uncapped).
 */

export type GrantAsk = {
	/** The link's max_clicks as the caller resolved it. */
	cap: number;
	/** Clicks the caller knows D1 counted (its cached row, or a fresh read when `fresh`). */
	counted: number;
	/** `counted` comes from a D1 read made for this ask: the only kind that may seed a new counter. */
	fresh: boolean;
};
export type GrantResult =
	{ ok: true; granted: number } | { ok: false; code: "exhausted"; granted: number } | { ok: false; code: "unseeded" };

/** Decides one grant: the next count to persist (null: nothing to write) and the answer. */
export function decideGrant(granted: number | null, ask: GrantAsk): { next: number | null; result: GrantResult } {
	if (!isCount(ask.cap) || ask.cap < 1 || !isCount(ask.counted)) throw new Error("invalid grant ask");
	// A counter never used must not start from a count up to 10 s old (an isolate's cached row).
	if (granted === null && !ask.fresh) return { next: null, result: { ok: false, code: "unseeded" } };
	const known = Math.max(granted ?? 0, ask.counted);
	if (known >= ask.cap)
		return { next: known === granted ? null : known, result: { ok: false, code: "exhausted", granted: known } };
	return { next: known + 1, result: { ok: true, granted: known + 1 } };
}

function isCount(n: number): boolean {
	return Number.isSafeInteger(n) && n >= 0;
}
