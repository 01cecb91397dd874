import { z } from "zod";
import { fieldErrors } from "../../platform/validation";
import { signingSecretsFor } from "../../gateway/signing-secrets/service";
import type { DestinationPolicy } from "../../platform/destination";
import { checkDestination, policyFromEnv } from "../../platform/destination";
import { DestinationRefusedError, safeFetch } from "../../platform/safe-fetch";
import { TimeoutError } from "../../platform/timeout";
import { webhookHeaders } from "../../platform/webhook-signature";
import type { JobHandler } from "./types";
import { PermanentJobError } from "./types";

const payloadSchema = z
	.object({
		url: z.url({ protocol: /^https?$/ }),
		method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST"),
		headers: z.record(z.string(), z.string()).default({}),
		body: z.unknown().optional(),
	})
	.strict();

/** How much of the answer is kept (and read at all: the rest of the stream is cancelled). */
export const MAX_RESPONSE_BYTES = 4_096;
/** One delivery's hard deadline, redirects included; the job's own timeout_seconds also cuts it. */
export const HTTP_TIMEOUT_MS = 30_000;

/**
 * Why an http job's payload.url may not be fetched under `policy`, or null when it may (or when
 * the payload is not an http payload at all: that fails at run time, as before).
 */
export function refusedDestination(payload: unknown, policy: DestinationPolicy): string | null {
	const parsed = payloadSchema.safeParse(payload);
	if (!parsed.success) return null;
	const check = checkDestination(parsed.data.url, policy);
	return check.ok ? null : check.reason;
}

/**
 * Delivers payload.body to payload.url (QStash's model): the body is sent as-is if a string, JSON
 * otherwise, signed in the Standard Webhooks format with the tenant's signing secrets
 * (webhook-id = the job id, the same on every attempt); a non-2xx answer fails the attempt.
 * Through safeFetch: every hop's destination checked (a refusal fails the job for good), a hard
 * deadline, the first MAX_RESPONSE_BYTES of the answer kept.
 */
export const httpHandler: JobHandler = {
	async run(payload, ctx) {
		const parsed = payloadSchema.safeParse(payload);
		if (!parsed.success)
			throw new PermanentJobError(`invalid http payload: ${JSON.stringify(fieldErrors(parsed.error.issues))}`);
		const { url, method, headers, body } = parsed.data;
		const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
		const signed = await webhookHeaders(await signingSecretsFor(ctx.env, ctx.tenantId), {
			id: ctx.jobId,
			timestampSeconds: Math.floor(Date.now() / 1000),
			body: text,
		});
		const outgoing = new Headers(headers);
		// Ours win over the tenant's own headers of the same names.
		for (const [name, value] of Object.entries(signed)) outgoing.set(name, value);
		outgoing.set("Floodgate-Job-Id", ctx.jobId);
		outgoing.set("Floodgate-Attempt", String(ctx.attempt));
		if (body !== undefined && typeof body !== "string" && !outgoing.has("Content-Type"))
			outgoing.set("Content-Type", "application/json");
		const res = await deliver(url, {
			policy: policyFromEnv(ctx.env),
			timeoutMs: HTTP_TIMEOUT_MS,
			maxResponseBytes: MAX_RESPONSE_BYTES,
			method,
			headers: outgoing,
			body: method === "GET" ? null : text,
			signal: ctx.signal,
		});
		const answer = new TextDecoder().decode(res.body);
		if (res.status < 200 || res.status > 299)
			throw new Error(`HTTP ${res.status} from ${url}: ${answer.slice(0, 200)}`);
		return { status: res.status, body: answer, ...(res.truncated ? { truncated: true } : {}) };
	},
};

async function deliver(url: string, options: Parameters<typeof safeFetch>[1]) {
	try {
		return await safeFetch(url, options);
	} catch (error) {
		// A refused hop (the URL itself, or a redirect to an inside address) is refused every time.
		if (error instanceof DestinationRefusedError)
			throw new PermanentJobError(`destination not allowed: ${error.reason} (${error.url})`, { cause: error });
		// Said in our words: the runner reads a TimeoutError as the job's own timeout_seconds.
		if (error instanceof TimeoutError)
			throw new Error(`no answer from ${url} within ${HTTP_TIMEOUT_MS} ms`, { cause: error });
		throw error;
	}
}
