import { AppError } from "../platform/errors";
import { newId, sha256Hex } from "../platform/crypto";
import type { ClickMessage } from "./clicks";
import { clickMessageSchema } from "./clicks";
import type { DeadLetter, DeadLetterRow } from "../platform/dead-letters-db";
import { findDeadLetter, markReplayed } from "../platform/dead-letters-db";
import { CLICKS_QUEUE_NAME, findSlugTenants } from "./dead-letters-db";

/** A click dead letter as stored: updateCount is the clicks it carries. */
export type ClickDeadLetter = DeadLetter & { queue: typeof CLICKS_QUEUE_NAME; kind: string };

/**
 * Click messages that kept failing: kept per tenant so each tenant sees and replays only its own
 * links' clicks. A message mixes the clicks of every link an isolate redirected, so the dead-letter
 * consumer splits it by owner; each part gets an id derived from the message's id and the tenant
 * (the same on a redelivery) and goes back to floodgate-clicks on replay, where the consumer's
 * ledger counts each id once however often it is replayed.
 */

/** Click dead letters as rows: one per owning tenant, one (tenant null, not replayable) for slugs no link owns. */
export async function clickDeadLetters(
	db: D1Database,
	body: unknown,
	queueMessageId: string,
	attempts: number,
	now: number,
): Promise<ClickDeadLetter[]> {
	const parsed = clickMessageSchema.safeParse(body);
	if (!parsed.success) {
		const text = JSON.stringify(body) ?? "null";
		return [letter(`clicks:-:${queueMessageId}`, null, "invalid", text, 0, "body is not a valid click message")];
	}
	const message = parsed.data;
	const owners = await findSlugTenants(db, [...new Set(message.entries.map((e) => e.slug))]);
	const groups = new Map<string | null, ClickMessage["entries"]>();
	for (const entry of message.entries) {
		const tenant = owners.get(entry.slug) ?? null;
		groups.set(tenant, [...(groups.get(tenant) ?? []), entry]);
	}
	const letters: ClickDeadLetter[] = [];
	for (const [tenant, entries] of groups) {
		// A message of one tenant's clicks keeps its id, so the ledger also knows it if it was counted after all.
		const id = groups.size === 1 ? message.id : await partId(message.id, tenant ?? "-");
		const clicks = entries.reduce((sum, e) => sum + e.n, 0);
		const text = JSON.stringify({ id, entries } satisfies ClickMessage);
		const kind = tenant === null ? "unknown_links" : "clicks";
		letters.push(letter(`clicks:${tenant ?? "-"}:${message.id}`, tenant, kind, text, clicks, "retries_exhausted"));
	}
	return letters;

	function letter(
		messageId: string,
		tenantId: string | null,
		kind: string,
		text: string,
		clicks: number,
		reason: string,
	): ClickDeadLetter {
		return {
			id: newId("dl"),
			queue: CLICKS_QUEUE_NAME,
			messageId,
			tenantId,
			kind,
			body: text,
			updateCount: clicks,
			reason,
			attempts,
			createdAt: now,
		};
	}
}

/** Sends a tenant's pending click dead letter back to floodgate-clicks; 404 for another tenant's id. */
export async function replayClickDeadLetter(env: Env, tenantId: string, id: string): Promise<DeadLetterRow> {
	const scope = { tenantId, queue: CLICKS_QUEUE_NAME };
	const row = await findDeadLetter(env.DB, id, scope);
	if (!row) throw new AppError(404, "not_found", `No click dead letter ${id}.`);
	if (row.replayed_at !== null)
		throw new AppError(
			409,
			"already_replayed",
			`Dead letter ${id} was replayed already; it returns if it fails again.`,
		);
	const parsed = clickMessageSchema.safeParse(JSON.parse(row.body));
	if (!parsed.success)
		throw new AppError(422, "not_replayable", `Dead letter ${id} is not a valid click message (${row.reason}).`);
	// Sent before it is marked: a crash in between leaves it pending, and a second send counts
	// nothing (the consumer's ledger keeps the message id).
	await env.CLICKS_QUEUE.send(parsed.data, { contentType: "json" });
	const marked = await markReplayed(env.DB, id, Date.now(), scope);
	if (!marked) throw new AppError(409, "already_replayed", `Dead letter ${id} was replayed meanwhile.`);
	return marked;
}

/** A UUID-shaped id (what the message schema takes) derived from a message id and a tenant. */
async function partId(messageId: string, tenant: string): Promise<string> {
	const h = (await sha256Hex(`${messageId}:${tenant}`)).slice(0, 32);
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
