import type { EmailEnv } from "./types";
import type { BatchOutcome, EmailMessage, KeyedMessage } from "./types";
import { sendViaResend } from "./resend";
import { sendViaSandbox } from "./sandbox";

/**
 * The provider adapter: EMAIL_PROVIDER_URL "sandbox" is the built-in sandbox provider (off
 * unless EMAIL_SANDBOX_ENABLED), anything else a Resend-shaped HTTP API reached through safeFetch.
 * Every message carries an idempotency key; sending the same key again never sends twice.
 */
export async function sendEmailBatch(
	env: EmailEnv,
	tenantId: string,
	batch: readonly KeyedMessage[],
): Promise<BatchOutcome> {
	if (batch.length === 0) return { kind: "answered", results: [] };
	if (env.EMAIL_PROVIDER_URL === "sandbox") {
		if (env.EMAIL_SANDBOX_ENABLED !== "true") {
			return { kind: "unavailable", reason: "the sandbox email provider is disabled", retryAfterMs: null };
		}
		return sendViaSandbox(env, tenantId, batch);
	}
	return sendViaResend(env, batch);
}

/** One message (a batch of one). */
export async function sendEmail(
	env: EmailEnv,
	tenantId: string,
	message: EmailMessage,
	idempotencyKey: string,
): Promise<BatchOutcome> {
	return sendEmailBatch(env, tenantId, [{ message, idempotencyKey }]);
}
