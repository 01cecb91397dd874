import type { Channel, ChannelContent, Rendered } from "./domain";
import { missingVariables, renderChannels } from "./domain";

/**
 * Digests' pure logic: which window a notification falls in, and what the one notification that
 * carries a window's items says (a tenant's `digest.<category>` template when it has the channel,
 * else a plain list).
 */

/** Items the default rendering names one by one; the rest are counted. */
const LISTED_ITEMS = 20;
const SMS_MAX = 1_600;

export type DigestWindow = { windowStart: number; flushAt: number };
/** One collected item as the digest sees it: the channel's rendered fields. */
export type DigestItem = Record<string, string>;

/** Windows are aligned to the epoch (every user's hourly digest goes out on the hour). */
export function digestWindow(atMs: number, windowMinutes: number): DigestWindow {
	const size = windowMinutes * 60_000;
	const windowStart = Math.floor(atMs / size) * size;
	return { windowStart, flushAt: windowStart + size };
}

/** The key a digest id is derived from: one digest per tenant, user, category, channel and window. */
export function digestKey(
	tenantId: string,
	userId: string,
	category: string,
	channel: Channel,
	windowStart: number,
): string {
	return JSON.stringify([tenantId, userId, category, channel, windowStart]);
}

/**
 * The digest's fields for `channel`: the template's channel rendered with `{category, count, items}`
 * when the template has it and every variable it uses is there, else the default list.
 */
export function renderDigest(
	channel: Channel,
	category: string,
	items: readonly DigestItem[],
	template: ChannelContent | null,
): Record<string, string> {
	const data = { category, count: items.length, items };
	if (template?.[channel] && missingVariables(template, [channel], data).length === 0) {
		const rendered: Rendered = renderChannels(template, [channel], data);
		const fields = rendered[channel];
		if (fields) return fields;
	}
	return defaultDigest(channel, category, items);
}

export function defaultDigest(
	channel: Channel,
	category: string,
	items: readonly DigestItem[],
): Record<string, string> {
	const heading = `${items.length} new ${category} notification${items.length === 1 ? "" : "s"}`;
	const lines = items.slice(0, LISTED_ITEMS).map((i) => `- ${headline(i)}`);
	if (items.length > LISTED_ITEMS) lines.push(`…and ${items.length - LISTED_ITEMS} more`);
	const list = lines.join("\n");
	switch (channel) {
		case "email":
			return { subject: heading, text: `${heading}:\n\n${list}` };
		case "sms":
			return { text: `${heading}: ${items.map(headline).join("; ")}`.slice(0, SMS_MAX) };
		case "push":
			return { title: heading, body: items.map(headline).join("; ").slice(0, 2_000) };
		case "in_app":
			return { title: heading, body: list };
	}
}

/** An item's one-line summary: its title or subject, else its text. */
function headline(item: DigestItem): string {
	return item.title ?? item.subject ?? item.text ?? item.body ?? "";
}
