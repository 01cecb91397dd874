/** Webhooks' pure rules: event type names, subscriptions, payload parts, ordering keys, health figures. */

import { percentile } from "../platform/percentiles";

/** Dot-separated lowercase names: `job.completed`, `payment.succeeded`. */
export const EVENT_TYPE_PATTERN = /^[a-z0-9_]+(\.[a-z0-9_]+){0,7}$/;
/** A subscription: an exact type or a prefix wildcard (`job.*`). */
export const SUBSCRIPTION_PATTERN = /^[a-z0-9_]+(\.[a-z0-9_]+){0,7}(\.\*)?$/;
export const MAX_PAYLOAD_BYTES = 256 * 1024;
/** UTF-16 code units per stored part: at most 3 UTF-8 bytes each, so < 72 KB per D1 statement. */
export const PART_CHARS = 24_000;
export const WEBHOOK_LIMITS = {
	maxEndpointsPerTenant: 2_000,
	maxSubscriptions: 50,
	maxRateLimit: 1_000,
	pageSize: 100,
	maxOverlapSeconds: 7 * 86_400,
	defaultOverlapSeconds: 86_400,
	/** An endpoint failing every attempt this long is disabled. */
	disableAfterFailingMs: 5 * 86_400_000,
	maxRecover: 1_000,
} as const;

/** Does an endpoint with these subscriptions ([] = everything) receive `type`? */
export function subscribes(subscriptions: readonly string[], type: string): boolean {
	if (subscriptions.length === 0) return true;
	return subscriptions.some((s) => (s.endsWith(".*") ? type.startsWith(s.slice(0, -1)) : s === type));
}

/** A payload's JSON text in parts of at most PART_CHARS, never splitting a surrogate pair. */
export function splitPayload(text: string): string[] {
	const parts: string[] = [];
	let start = 0;
	while (start < text.length) {
		let end = Math.min(text.length, start + PART_CHARS);
		const last = text.charCodeAt(end - 1);
		if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
		parts.push(text.slice(start, end));
		start = end;
	}
	return parts.length > 0 ? parts : [""];
}

/**
 * The ordering key of an event for an ordered endpoint: the payload's top-level field named by the
 * endpoint's `ordering_key` (a string or number), or "" (one lane for events without it).
 */
export function laneKeyOf(orderingField: string | null, payload: unknown): string | null {
	if (orderingField === null) return null;
	if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return "";
	const value: unknown = Object.entries(payload).find(([k]) => k === orderingField)?.[1];
	return typeof value === "string" || typeof value === "number" ? String(value).slice(0, 200) : "";
}

export type HealthFigures = {
	attempts: number;
	succeeded: number;
	success_rate: number | null;
	p50_ms: number | null;
	p99_ms: number | null;
};

/** Success rate and latency percentiles of a window of attempts. */
export function healthFigures(samples: readonly { ok: boolean; latencyMs: number }[]): HealthFigures {
	const succeeded = samples.filter((s) => s.ok).length;
	const latencies = samples.map((s) => s.latencyMs);
	return {
		attempts: samples.length,
		succeeded,
		success_rate: samples.length === 0 ? null : succeeded / samples.length,
		p50_ms: percentile(latencies, 50),
		p99_ms: percentile(latencies, 99),
	};
}

/** Disable after a failure when the endpoint has failed every attempt since `failingSince` for long enough. */
export function failingTooLong(failingSince: number | null, nowMs: number): boolean {
	return failingSince !== null && nowMs - failingSince >= WEBHOOK_LIMITS.disableAfterFailingMs;
}

/** A page cursor `<created_at>.<id>`. */
export function encodeCursor(createdAt: number, id: string): string {
	return `${createdAt}.${id}`;
}

export function decodeCursor(cursor: string | undefined): { createdAt: number; id: string } | null {
	const match = cursor === undefined ? null : /^(\d{1,16})\.([A-Za-z0-9_]{3,64})$/.exec(cursor);
	return match?.[1] && match[2] ? { createdAt: Number(match[1]), id: match[2] } : null;
}
