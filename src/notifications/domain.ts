import Mustache from "mustache";
import { instantOfWallTime, localDateAt, wallTimeAt } from "../platform/time-zones";

/**
 * Notifications' pure logic: rendering a template's channels (and finding the variables the data
 * lacks), what a user's preferences and quiet hours make of a channel, and the weighted order in
 * which a backlog's priorities are served.
 */

export const CHANNELS = ["email", "push", "sms", "in_app"] as const;
export type Channel = (typeof CHANNELS)[number];
export const PRIORITIES = ["critical", "high", "normal", "low"] as const;
export type Priority = (typeof PRIORITIES)[number];

/** A template's content: each channel's fields are mustache templates. */
export type ChannelContent = {
	email?: { subject: string; text: string; html?: string | undefined } | undefined;
	push?: { title: string; body: string } | undefined;
	sms?: { text: string } | undefined;
	in_app?: { title: string; body: string; link?: string | undefined } | undefined;
};
export type Rendered = Partial<Record<Channel, Record<string, string>>>;

export type QuietHours = { start: string; end: string; time_zone: string };
export type Preferences = {
	/** channel → enabled, for every category. */
	channels: Partial<Record<Channel, boolean>>;
	/** category → channel → enabled; overrides `channels`. */
	categories: Record<string, Partial<Record<Channel, boolean>>>;
	quiet_hours: QuietHours | null;
	/** category → digest window: its non-critical notifications are collected and sent as one per window. */
	digests?: Record<string, { window_minutes: number }> | undefined;
};
export const DEFAULT_PREFERENCES: Preferences = { channels: {}, categories: {}, quiet_hours: null };

/** Relative share of a backlog each priority is served with (critical first, low never starved). */
export const PRIORITY_WEIGHTS: Record<Priority, number> = { critical: 8, high: 4, normal: 2, low: 1 };

type Token = [string, string, ...unknown[]];

/** Throws (mustache's own message) when a template does not parse. */
export function checkTemplate(content: ChannelContent): void {
	for (const fields of Object.values(content)) {
		for (const text of Object.values(fields ?? {})) if (typeof text === "string") Mustache.parse(text);
	}
}

/**
 * Variables the templates use that `data` does not have (dotted paths; top-level tags and section
 * names; tags inside a section resolve against the section's item and are not checked).
 */
export function missingVariables(content: ChannelContent, channels: readonly Channel[], data: unknown): string[] {
	const missing = new Set<string>();
	for (const channel of channels) {
		for (const text of Object.values(content[channel] ?? {})) {
			if (typeof text !== "string") continue;
			for (const token of tokensOf(text)) {
				const [type, name] = token;
				if (!["name", "&", "#", "^"].includes(type) || name === ".") continue;
				if (lookup(data, name) === undefined) missing.add(name);
			}
		}
	}
	return [...missing].sort();
}

/** Renders the channels' fields; `html` is HTML-escaped, every other field is plain text. */
export function renderChannels(content: ChannelContent, channels: readonly Channel[], data: unknown): Rendered {
	const out: Rendered = {};
	for (const channel of channels) {
		const fields = content[channel];
		if (!fields) continue;
		const rendered: Record<string, string> = {};
		for (const [field, text] of Object.entries(fields)) {
			if (typeof text !== "string") continue;
			rendered[field] =
				field === "html" ? Mustache.render(text, data) : Mustache.render(text, data, {}, { escape: (v) => String(v) });
		}
		out[channel] = rendered;
	}
	return out;
}

/** Whether the user receives `channel` for `category` (opted in unless they said otherwise). */
export function channelAllowed(prefs: Preferences, category: string, channel: Channel): boolean {
	return prefs.categories[category]?.[channel] ?? prefs.channels[channel] ?? true;
}

/** The end of the quiet hours `nowMs` falls in (a UTC instant), or null when outside them. */
export function quietHoursEnd(quiet: QuietHours | null, nowMs: number): number | null {
	if (!quiet) return null;
	const start = minuteOf(quiet.start);
	const end = minuteOf(quiet.end);
	if (start === end) return null;
	const w = wallTimeAt(quiet.time_zone, nowMs);
	const now = w.hour * 60 + w.minute;
	const today = localDateAt(quiet.time_zone, nowMs);
	const inside = start < end ? now >= start && now < end : now >= start || now < end;
	if (!inside) return null;
	// Overnight hours (22:00–07:00) seen before midnight end tomorrow.
	const endMinute = start > end && now >= start ? end + 24 * 60 : end;
	return instantOfWallTime(quiet.time_zone, today, endMinute);
}

/**
 * Interleaves items by priority with weighted round-robin: of every 15 served, up to 8 critical,
 * 4 high, 2 normal, 1 low, so a backlog is served in priority order without starving the low ones.
 */
export function weightedOrder<T>(items: readonly T[], priorityOf: (item: T) => Priority): T[] {
	const lanes = new Map<Priority, T[]>(PRIORITIES.map((p) => [p, []]));
	for (const item of items) lanes.get(priorityOf(item))?.push(item);
	const out: T[] = [];
	while (out.length < items.length) {
		for (const p of PRIORITIES) out.push(...(lanes.get(p)?.splice(0, PRIORITY_WEIGHTS[p]) ?? []));
	}
	return out;
}

export function minuteOf(hhmm: string): number {
	const [h, m] = hhmm.split(":").map(Number);
	return (h ?? 0) * 60 + (m ?? 0);
}

function tokensOf(text: string): Token[] {
	const out: Token[] = [];
	// An inverted section keeps the context, so its tags resolve against the data too.
	const walk = (tokens: unknown[]) => {
		for (const t of tokens) {
			if (!Array.isArray(t) || typeof t[0] !== "string" || typeof t[1] !== "string") continue;
			out.push([t[0], t[1]]);
			if (t[0] === "^" && Array.isArray(t[4])) walk(t[4]);
		}
	};
	walk(Mustache.parse(text));
	return out;
}

function lookup(data: unknown, path: string): unknown {
	let value: unknown = data;
	for (const part of path.split(".")) {
		if (value === null || typeof value !== "object" || !Object.hasOwn(value, part)) return undefined;
		value = Reflect.get(value, part);
	}
	return value;
}
