/** The email provider interface shared by campaigns (and, later, notifications). */

export type EmailMessage = {
	from: string;
	to: string;
	subject: string;
	text: string;
	html?: string | undefined;
	headers: Record<string, string>;
	/** Provider tags, echoed back in its webhooks (tenant, campaign, subscriber). */
	tags: Record<string, string>;
};

/** One message with the key the provider deduplicates it by. */
export type KeyedMessage = { message: EmailMessage; idempotencyKey: string };

/** What became of one message the provider answered for. */
export type MessageResult =
	| { status: "sent"; providerId: string; complained?: boolean }
	| { status: "bounced"; reason: string }
	| { status: "failed"; reason: string; permanent: boolean };

/**
 * A batch call: per-message results, or the whole call refused (throttled: wait `retryAfterMs`;
 * unavailable: the provider is down or misconfigured, nothing of the batch is known to be sent).
 */
export type BatchOutcome =
	| { kind: "answered"; results: MessageResult[] }
	| { kind: "throttled"; retryAfterMs: number }
	| { kind: "unavailable"; reason: string; retryAfterMs: number | null };

/** Messages per provider call (Resend's /emails/batch takes at most 100). */
export const PROVIDER_BATCH_SIZE = 100;

type EmailSettings =
	| "EMAIL_PROVIDER_URL"
	| "EMAIL_PROVIDER_TIMEOUT_MS"
	| "EMAIL_SANDBOX_ENABLED"
	| "EMAIL_SANDBOX_RATE_PER_SECOND"
	| "EMAIL_SEND_RATE_PER_SECOND"
	| "EMAIL_MAX_ATTEMPTS"
	| "EMAIL_SEND_CHAINS";

/** The Worker's env with the email settings as plain strings (tests and operators vary them). */
export type EmailEnv = Omit<Env, EmailSettings> & Record<EmailSettings, string>;
