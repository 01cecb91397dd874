import { errorText, log } from "../platform/log";
import { groupForSendBatch } from "../platform/queue-limits";
import { sleep } from "../platform/timeout";
import type { ClickFacts, ClickMessage } from "./clicks";
import { ClickBuffer, ENTRIES_PER_MESSAGE, clicksPerSlug } from "./clicks";

/**
 * The redirect's side of click analytics: a click goes into an isolate buffer and the redirect
 * answers; the first click of a burst starts one flush in `ctx.waitUntil` that waits
 * CLICK_FLUSH_DELAY_MS and sends everything buffered to floodgate-clicks (messages of <= 200
 * aggregated entries, each with its own id for the consumer's ledger; sendBatch calls of <= 100
 * messages and <= 256 KB). The redirect never waits on the queue, and nothing here reads D1.
 */

/** A flush waits this long so the clicks of a burst travel together. */
export const CLICK_FLUSH_DELAY_MS = 200;
/** Entries per flush round: 10 messages of 200, one sendBatch. */
const ENTRIES_PER_ROUND = 2_000;
const MAX_FLUSH_ROUNDS = 5;
const SEND_ATTEMPTS = 3;
const SEND_RETRY_DELAY_MS = 250;

// Isolate state of plain data: clicks not yet sent, and whether a flush is scheduled.
const clicks = new ClickBuffer();
let flushing = false;
/** Clicks this isolate gave up sending (every attempt of their sendBatch failed), logged as lost_total. */
let lost = 0;

/** Clicks of `slug` this isolate counted but has not sent yet (max_clicks adds them to the known count). */
export function pendingClicks(slug: string): number {
	return clicks.pending(slug);
}

/**
 * Buffers a click; the send happens after the response. `onSent` hears each flushed round's
 * per-slug totals (the resolver adds them to its cached rows so max_clicks still sees them).
 */
export function recordClick(
	queue: Queue,
	ctx: { waitUntil(p: Promise<unknown>): void },
	click: ClickFacts,
	onSent: (perSlug: Map<string, number>) => void,
): void {
	clicks.add(click);
	if (flushing) return;
	flushing = true;
	ctx.waitUntil(flushClicks(queue, onSent));
}

/**
 * Sends buffered clicks until the buffer is empty (bounded rounds). `flushing` is cleared in the
 * same synchronous step that finds the buffer empty, so a click added later starts its own flush.
 * A failed sendBatch is tried again (SEND_ATTEMPTS in all) with the same message ids: one that did
 * arrive although its answer was lost is counted once by the consumer's ledger. Clicks still
 * unsent after that are counted in `lost` and logged as an error with the running total.
 */
async function flushClicks(queue: Queue, onSent: (perSlug: Map<string, number>) => void): Promise<void> {
	try {
		for (let round = 0; round < MAX_FLUSH_ROUNDS; round++) {
			await sleep(CLICK_FLUSH_DELAY_MS);
			const entries = clicks.take(ENTRIES_PER_ROUND);
			if (entries.length === 0) return;
			onSent(clicksPerSlug(entries));
			const messages: ClickMessage[] = [];
			for (let i = 0; i < entries.length; i += ENTRIES_PER_MESSAGE)
				messages.push({ id: crypto.randomUUID(), entries: entries.slice(i, i + ENTRIES_PER_MESSAGE) });
			for (const group of groupForSendBatch(messages)) await sendGroup(queue, group);
		}
	} finally {
		flushing = false;
	}
}

async function sendGroup(queue: Queue, group: readonly ClickMessage[]): Promise<void> {
	for (let attempt = 1; ; attempt++) {
		try {
			await queue.sendBatch(group.map((body) => ({ body })));
			return;
		} catch (error) {
			if (attempt < SEND_ATTEMPTS) {
				log.warn("click send failed, retried", { messages: group.length, attempt, error: errorText(error) });
				await sleep(SEND_RETRY_DELAY_MS * attempt);
				continue;
			}
			const dropped = group.reduce((sum, m) => sum + m.entries.reduce((s, e) => s + e.n, 0), 0);
			lost += dropped;
			log.error("click analytics lost", {
				messages: group.length,
				clicks: dropped,
				lost_total: lost,
				error: errorText(error),
			});
			return;
		}
	}
}
