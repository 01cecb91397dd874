import { z } from "zod";
import { fieldErrors } from "../../platform/validation";
import { SIGNATURE_HEADER, signBody } from "./signing";
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
 * otherwise, signed with HMAC-SHA256 under JOBS_SIGNING_SECRET; a non-2xx answer fails the attempt.
 */
export const httpHandler: JobHandler = {
	async run(payload, ctx) {
		const parsed = payloadSchema.safeParse(payload);
		if (!parsed.success)
			throw new PermanentJobError(`invalid http payload: ${JSON.stringify(fieldErrors(parsed.error.issues))}`);
		const { url, method, headers, body } = parsed.data;
		const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
		const signature = await signBody(ctx.env.JOBS_SIGNING_SECRET, text, Math.floor(Date.now() / 1000));
		const outgoing = new Headers(headers);
		outgoing.set(SIGNATURE_HEADER, signature);
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
