import { z } from "zod";
import { fieldErrors } from "../../platform/validation";
import { signingSecretsFor } from "../../gateway/signing-secrets/service";
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

const MAX_RESPONSE_CHARS = 4_096;

/**
 * Delivers payload.body to payload.url (QStash's model): the body is sent as-is if a string, JSON
 * otherwise, signed in the Standard Webhooks format with the tenant's signing secrets
 * (webhook-id = the job id, the same on every attempt); a non-2xx answer fails the attempt.
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
		const res = await fetch(url, {
			method,
			headers: outgoing,
			body: method === "GET" ? undefined : text,
			signal: ctx.signal,
		});
		const answer = (await res.text()).slice(0, MAX_RESPONSE_CHARS);
		if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}: ${answer.slice(0, 200)}`);
		return { status: res.status, body: answer };
	},
};
