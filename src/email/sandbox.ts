import type { EmailEnv } from "./types";
import { takeTokens } from "../gateway/limiter/service";
import { PROVIDER_BATCH_SIZE } from "./types";
import type { BatchOutcome, KeyedMessage, MessageResult } from "./types";
import type { SandboxInsert } from "./sandbox-db";
import { existingOutcomes, firstAttempts, recordMessages } from "./sandbox-db";

/**
 * The built-in sandbox provider (local default): records every message per tenant, deduplicates
 * by idempotency key like a real provider, enforces EMAIL_SANDBOX_RATE_PER_SECOND per tenant (a
 * throttled batch records nothing; like providers, it lets one extra second of burst through), and simulates by the address's local part: `bounce+…@` a hard
 * bounce, `complaint+…@` a complaint after delivery, `flaky+…@` a transient 5xx on its first attempt.
 */
export async function sendViaSandbox(
	env: EmailEnv,
	tenantId: string,
	batch: readonly KeyedMessage[],
): Promise<BatchOutcome> {
	const rate = Number(env.EMAIL_SANDBOX_RATE_PER_SECOND);
	const outcome = await takeTokens(env.RATE_LIMITER, [
		{
			key: `email-sandbox:${tenantId}`,
			policies: [
				{
					name: "email_sandbox",
					algorithm: "token_bucket",
					limit: rate,
					windowSeconds: 1,
					burst: Math.max(2 * rate, PROVIDER_BATCH_SIZE),
				},
			],
			cost: batch.length,
			onFailure: "open",
		},
	]);
	if (!outcome.allowed) return { kind: "throttled", retryAfterMs: outcome.retryAfterMs ?? 1000 };
	const now = Date.now();
	const keys = batch.map((m) => m.idempotencyKey);
	const known = await existingOutcomes(env.DB, tenantId, keys);
	const flaky = batch.filter((m) => !known.has(m.idempotencyKey) && simulation(m.message.to) === "flaky");
	const firstTries = await firstAttempts(
		env.DB,
		tenantId,
		flaky.map((m) => m.idempotencyKey),
		now,
	);
	const rows: SandboxInsert[] = [];
	const results = batch.map((m): MessageResult => {
		const previous = known.get(m.idempotencyKey);
		if (previous !== undefined) return resultFor(previous, m.idempotencyKey);
		if (firstTries.has(m.idempotencyKey))
			return { status: "failed", reason: "sandbox: simulated 503 (flaky)", permanent: false };
		const kind = simulation(m.message.to);
		const stored = kind === "bounce" ? "bounced" : kind === "complaint" ? "complained" : "sent";
		rows.push({
			key: m.idempotencyKey,
			campaign: m.message.tags.campaign ?? null,
			to: m.message.to,
			from: m.message.from,
			subject: m.message.subject,
			text: m.message.text,
			html: m.message.html ?? null,
			headers: JSON.stringify(m.message.headers),
			outcome: stored,
		});
		return resultFor(stored, m.idempotencyKey);
	});
	await recordMessages(env.DB, tenantId, rows, now);
	return { kind: "answered", results };
}

function resultFor(outcome: string, key: string): MessageResult {
	if (outcome === "bounced") return { status: "bounced", reason: "sandbox: simulated hard bounce" };
	return { status: "sent", providerId: `sandbox_${key}`, complained: outcome === "complained" };
}

function simulation(address: string): "bounce" | "complaint" | "flaky" | null {
	const local = address.slice(0, address.indexOf("@")).toLowerCase();
	if (local.startsWith("bounce+")) return "bounce";
	if (local.startsWith("complaint+")) return "complaint";
	if (local.startsWith("flaky+")) return "flaky";
	return null;
}
