import { z } from "zod";
import { errorText, log } from "../platform/log";
import { TimeoutError, withTimeout } from "../platform/timeout";
import { policyFromEnv } from "../platform/destination";
import { DestinationRefusedError, safeFetch } from "../platform/safe-fetch";
import { sandboxCallerHeaders } from "./sandbox-access";

/**
 * The client of the card processor (an outbound HTTP API at PAYMENT_PROCESSOR_URL). Every charge
 * carries our idempotency key, so the processor creates at most one charge per payment however
 * often we retry. A URL on this Worker's own origin (or a bare path) is the built-in sandbox
 * processor, reached through the SELF service binding: a real HTTP request with its own lifetime,
 * which works the same under `wrangler dev`, in vitest and in the benchmark's Miniflare. Any other
 * URL goes through safeFetch: the outbound policy (https, public hosts), no redirects, a byte cap.
 */

export type ChargeRequest = {
	/** The tenant charging (its own account at the processor; the sandbox keeps one ledger per tenant). */
	tenantId: string;
	idempotencyKey: string;
	amountCents: number;
	currency: string;
	cardToken: string;
	description: string;
};

export type ChargeOutcome =
	| { kind: "succeeded"; chargeId: string; answer: string }
	| { kind: "declined"; chargeId: string; declineCode: string; answer: string }
	/** The processor's answer is unknown or an error: the card may or may not have been charged. */
	| { kind: "failed"; reason: "timeout" | "server_error" | "network_error" | "bad_response"; status: number | null };

const MAX_ANSWER_CHARS = 10_000;
type Exchange = { status: number; text: string };

/** A processor's answer is small JSON; anything longer is not one. */
const MAX_ANSWER_BYTES = 65_536;

const chargeAnswer = z.object({
	id: z.string().min(1),
	status: z.enum(["succeeded", "declined"]),
	decline_code: z.string().nullable().optional(),
});

/** Charges a card; never throws for processor trouble (that is a `failed` outcome the breaker counts). */
export async function chargeCard(env: Env, ownOrigin: string, request: ChargeRequest): Promise<ChargeOutcome> {
	const url = new URL(`${env.PAYMENT_PROCESSOR_URL.replace(/\/$/, "")}/charges`, ownOrigin);
	const body = JSON.stringify({
		amount_cents: request.amountCents,
		currency: request.currency,
		card_token: request.cardToken,
		description: request.description,
	});
	const headers = { "Content-Type": "application/json", "Idempotency-Key": request.idempotencyKey };
	const timeoutMs = Number(env.PAYMENT_PROCESSOR_TIMEOUT_MS);
	try {
		const result =
			url.origin === ownOrigin
				? await viaSelf(
						env,
						url,
						{ ...(await sandboxCallerHeaders(env, request.tenantId)), ...headers },
						body,
						timeoutMs,
					)
				: await viaNetwork(env, url, headers, body, timeoutMs);
		return interpret(result.status, result.text);
	} catch (error) {
		if (error instanceof TimeoutError) return { kind: "failed", reason: "timeout", status: null };
		if (error instanceof DestinationRefusedError)
			log.error("payment processor URL refused by the outbound policy", { url: error.url, reason: error.reason });
		else log.warn("payment processor unreachable", { error: errorText(error) });
		return { kind: "failed", reason: "network_error", status: null };
	}
}

/**
 * The built-in sandbox, through the SELF service binding; only this path carries the platform's
 * sandbox caller token. At the deadline the signal aborts the fetch, and the answer is a timeout.
 */
function viaSelf(
	env: Env,
	url: URL,
	headers: Record<string, string>,
	body: string,
	timeoutMs: number,
): Promise<Exchange> {
	return withTimeout(
		(signal) =>
			env.SELF.fetch(url.toString(), { method: "POST", headers, body, signal }).then(async (res) => ({
				status: res.status,
				text: await res.text(),
			})),
		timeoutMs,
		"payment processor",
	);
}

/** A remote processor: checked destination, no redirects followed (a processor never redirects a charge). */
async function viaNetwork(
	env: Env,
	url: URL,
	headers: Record<string, string>,
	body: string,
	timeoutMs: number,
): Promise<Exchange> {
	const res = await safeFetch(url.toString(), {
		policy: policyFromEnv(env),
		timeoutMs,
		maxResponseBytes: MAX_ANSWER_BYTES,
		maxRedirects: 0,
		method: "POST",
		headers,
		body,
	});
	return { status: res.status, text: new TextDecoder().decode(res.body) };
}

function interpret(status: number, text: string): ChargeOutcome {
	if (status >= 500) return { kind: "failed", reason: "server_error", status };
	let parsed: z.infer<typeof chargeAnswer>;
	try {
		parsed = chargeAnswer.parse(JSON.parse(text));
	} catch {
		return { kind: "failed", reason: "bad_response", status };
	}
	// The raw answer is kept on the ledger row (evidence for an operator) until PAYMENT_RAW_RETENTION_DAYS.
	const answer = text.slice(0, MAX_ANSWER_CHARS);
	if (status === 200 && parsed.status === "succeeded") return { kind: "succeeded", chargeId: parsed.id, answer };
	if (status === 402 && parsed.status === "declined")
		return { kind: "declined", chargeId: parsed.id, declineCode: parsed.decline_code ?? "card_declined", answer };
	return { kind: "failed", reason: "bad_response", status };
}
