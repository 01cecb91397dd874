import { z } from "zod";
import { errorText, log } from "../platform/log";
import { TimeoutError, withTimeout } from "../platform/timeout";
import { sandboxCallerHeaders } from "./sandbox-access";

/**
 * The client of the card processor (an outbound HTTP API at PAYMENT_PROCESSOR_URL). Every charge
 * carries our idempotency key, so the processor creates at most one charge per payment however
 * often we retry. A URL on this Worker's own origin (or a bare path) is the built-in sandbox
 * processor, reached through the SELF service binding: a real HTTP request with its own lifetime,
 * which works the same under `wrangler dev`, in vitest and in the benchmark's Miniflare.
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
	| { kind: "succeeded"; chargeId: string }
	| { kind: "declined"; chargeId: string; declineCode: string }
	/** The processor's answer is unknown or an error: the card may or may not have been charged. */
	| { kind: "failed"; reason: "timeout" | "server_error" | "network_error" | "bad_response"; status: number | null };

const chargeAnswer = z.object({
	id: z.string().min(1),
	status: z.enum(["succeeded", "declined"]),
	decline_code: z.string().nullable().optional(),
});

/** Charges a card; never throws for processor trouble (that is a `failed` outcome the breaker counts). */
export async function chargeCard(env: Env, ownOrigin: string, request: ChargeRequest): Promise<ChargeOutcome> {
	const url = new URL(`${env.PAYMENT_PROCESSOR_URL.replace(/\/$/, "")}/charges`, ownOrigin);
	const sandbox = url.origin === ownOrigin;
	const send = sandbox ? env.SELF.fetch.bind(env.SELF) : fetch;
	// Only the built-in sandbox (through SELF) gets the platform's caller token; never a remote URL.
	const platformHeaders = sandbox ? await sandboxCallerHeaders(env, request.tenantId) : {};
	const body = JSON.stringify({
		amount_cents: request.amountCents,
		currency: request.currency,
		card_token: request.cardToken,
		description: request.description,
	});
	try {
		// At the deadline the signal aborts the fetch, and the answer is a timeout.
		const result = await withTimeout(
			(signal) =>
				send(url.toString(), {
					method: "POST",
					headers: {
						...platformHeaders,
						"Content-Type": "application/json",
						"Idempotency-Key": request.idempotencyKey,
					},
					body,
					signal,
				}).then(async (res) => ({ status: res.status, text: await res.text() })),
			Number(env.PAYMENT_PROCESSOR_TIMEOUT_MS),
			"payment processor",
		);
		return interpret(result.status, result.text);
	} catch (error) {
		if (error instanceof TimeoutError) return { kind: "failed", reason: "timeout", status: null };
		log.warn("payment processor unreachable", { error: errorText(error) });
		return { kind: "failed", reason: "network_error", status: null };
	}
}

function interpret(status: number, text: string): ChargeOutcome {
	if (status >= 500) return { kind: "failed", reason: "server_error", status };
	let parsed: z.infer<typeof chargeAnswer>;
	try {
		parsed = chargeAnswer.parse(JSON.parse(text));
	} catch {
		return { kind: "failed", reason: "bad_response", status };
	}
	if (status === 200 && parsed.status === "succeeded") return { kind: "succeeded", chargeId: parsed.id };
	if (status === 402 && parsed.status === "declined")
		return { kind: "declined", chargeId: parsed.id, declineCode: parsed.decline_code ?? "card_declined" };
	return { kind: "failed", reason: "bad_response", status };
}
