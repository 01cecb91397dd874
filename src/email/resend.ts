import type { EmailEnv } from "./types";
import { z } from "zod";
import { sha256Hex } from "../platform/crypto";
import { policyFromEnv } from "../platform/destination";
import { errorText } from "../platform/log";
import { DestinationRefusedError, safeFetch } from "../platform/safe-fetch";
import type { BatchOutcome, KeyedMessage, MessageResult } from "./types";

/**
 * Resend's HTTP API shape: POST {EMAIL_PROVIDER_URL}/emails/batch with up to 100 emails, an
 * `Idempotency-Key` for the whole batch (Resend keeps keys 24 h), 429 with `retry-after` (and
 * `ratelimit-*` headers) when over the account's rate. The batch key is derived from the members'
 * own keys, so the same batch resent after a crash is deduplicated by the provider.
 */

const answerSchema = z.object({ data: z.array(z.object({ id: z.string() })) });
const MAX_ANSWER_BYTES = 256 * 1024;

export async function sendViaResend(env: EmailEnv, batch: readonly KeyedMessage[]): Promise<BatchOutcome> {
	const body = batch.map(({ message }) => ({
		from: message.from,
		to: [message.to],
		subject: message.subject,
		text: message.text,
		...(message.html === undefined ? {} : { html: message.html }),
		headers: message.headers,
		tags: Object.entries(message.tags).map(([name, value]) => ({ name, value })),
	}));
	const key = await sha256Hex(batch.map((m) => m.idempotencyKey).join("\n"));
	let res;
	try {
		res = await safeFetch(`${env.EMAIL_PROVIDER_URL.replace(/\/+$/, "")}/emails/batch`, {
			method: "POST",
			headers: {
				Authorization: `Bearer ${env.EMAIL_PROVIDER_API_KEY}`,
				"Content-Type": "application/json",
				"Idempotency-Key": `batch-${key}`,
			},
			body: JSON.stringify(body),
			policy: policyFromEnv(env),
			timeoutMs: Number(env.EMAIL_PROVIDER_TIMEOUT_MS),
			maxResponseBytes: MAX_ANSWER_BYTES,
			maxRedirects: 0,
		});
	} catch (err) {
		const reason = err instanceof DestinationRefusedError ? err.message : `provider unreachable: ${errorText(err)}`;
		return { kind: "unavailable", reason, retryAfterMs: null };
	}
	if (res.status === 429) return { kind: "throttled", retryAfterMs: retryAfterMs(res.headers) ?? 1000 };
	if (res.status >= 500) {
		return { kind: "unavailable", reason: `provider answered ${res.status}`, retryAfterMs: retryAfterMs(res.headers) };
	}
	const text = new TextDecoder().decode(res.body);
	if (res.status >= 400) {
		// A request the provider will never accept (a bad sender, an invalid address): each message failed for good.
		const reason = `provider refused the batch (${res.status}): ${text.slice(0, 200)}`;
		return { kind: "answered", results: batch.map(() => ({ status: "failed", reason, permanent: true })) };
	}
	const parsed = answerSchema.safeParse(safeJson(text));
	if (!parsed.success || parsed.data.data.length !== batch.length) {
		return { kind: "unavailable", reason: "provider answered an unexpected body", retryAfterMs: null };
	}
	return {
		kind: "answered",
		results: parsed.data.data.map((d): MessageResult => ({ status: "sent", providerId: d.id })),
	};
}

/** `retry-after` in seconds (or an HTTP date), else `ratelimit-reset` seconds; null when neither parses. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | null {
	const raw = headers.get("retry-after") ?? headers.get("ratelimit-reset");
	if (raw === null) return null;
	const seconds = Number(raw);
	if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
	const date = Date.parse(raw);
	return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function safeJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}
