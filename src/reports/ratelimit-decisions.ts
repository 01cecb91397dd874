import { round } from "./truck-distance";

/**
 * ratelimit_decisions' pure part: per (resource, key), allowed and rejected decisions over the
 * range, the rejection rate and the peak minute (the minute with the most decisions; the earliest
 * on a tie). Source rows are the limiter's per-minute counts (src/gateway/limiter/decisions.ts).
 */

export type DecisionMinute = { minute: number; resource: string; limit_key: string; allowed: number; rejected: number };

export type KeyAggregate = {
	resource: string;
	key: string;
	allowed: number;
	rejected: number;
	peak_minute: number;
	peak_requests: number;
	peak_rejected: number;
};

export type DecisionRow = {
	resource: string;
	key: string;
	requests: number;
	allowed: number;
	rejected: number;
	rejection_rate: number;
	peak_minute: string;
	peak_minute_requests: number;
	peak_minute_rejected: number;
};

export const DECISION_COLUMNS = [
	"resource",
	"key",
	"requests",
	"allowed",
	"rejected",
	"rejection_rate",
	"peak_minute",
	"peak_minute_requests",
	"peak_minute_rejected",
] as const;

/** The map key of a (resource, key) pair. */
export function pairId(resource: string, key: string): string {
	return `${resource}\n${key}`;
}

/** Adds a page of minute rows (only `resources` when given). */
export function aggregateDecisions(
	into: Map<string, KeyAggregate>,
	rows: readonly DecisionMinute[],
	resources: readonly string[] | undefined,
): void {
	for (const r of rows) {
		if (resources && !resources.includes(r.resource)) continue;
		mergeKeyAggregate(into, {
			resource: r.resource,
			key: r.limit_key,
			allowed: r.allowed,
			rejected: r.rejected,
			peak_minute: r.minute,
			peak_requests: r.allowed + r.rejected,
			peak_rejected: r.rejected,
		});
	}
}

/**
 * Adds one aggregate to the map. A minute's counts arrive in one row, so the peak of a sum is the
 * larger of the peaks (the earlier minute on a tie, whichever order the parts come in).
 */
export function mergeKeyAggregate(into: Map<string, KeyAggregate>, part: KeyAggregate): void {
	const id = pairId(part.resource, part.key);
	const agg = into.get(id);
	if (!agg) {
		into.set(id, { ...part });
		return;
	}
	agg.allowed += part.allowed;
	agg.rejected += part.rejected;
	const better =
		part.peak_requests > agg.peak_requests ||
		(part.peak_requests === agg.peak_requests && part.peak_minute < agg.peak_minute);
	if (better) {
		agg.peak_minute = part.peak_minute;
		agg.peak_requests = part.peak_requests;
		agg.peak_rejected = part.peak_rejected;
	}
}

export function decisionRow(agg: KeyAggregate): DecisionRow {
	const requests = agg.allowed + agg.rejected;
	return {
		resource: agg.resource,
		key: agg.key,
		requests,
		allowed: agg.allowed,
		rejected: agg.rejected,
		rejection_rate: requests === 0 ? 0 : round(agg.rejected / requests, 4),
		peak_minute: new Date(agg.peak_minute).toISOString(),
		peak_minute_requests: agg.peak_requests,
		peak_minute_rejected: agg.peak_rejected,
	};
}
