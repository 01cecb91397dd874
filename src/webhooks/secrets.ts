import type { EndpointRow } from "./db";
import { openText, sealText } from "../platform/crypto";
import { generateWebhookSecret, webhookHeaders } from "../platform/webhook-signature";

/**
 * Each endpoint's `whsec_` secret, sealed at rest under SIGNING_SECRETS_KEY (the key the tenant
 * signing secrets use, src/gateway/signing-secrets/) and bound to its endpoint row, so a sealed
 * value copied to another endpoint does not open. After a rotation the previous secret keeps
 * signing next to the new one until its overlap ends.
 */

export function newEndpointSecret(): string {
	return generateWebhookSecret();
}

export function sealEndpointSecret(env: Env, tenantId: string, endpointId: string, secret: string): Promise<string> {
	return sealText(sealingKey(env), secret, context(tenantId, endpointId));
}

/** The secrets that sign now: the current one, then the previous one during its overlap. */
export async function liveSecrets(env: Env, row: EndpointRow, nowMs: number): Promise<string[]> {
	const sealed = [row.sealed_secret];
	if (row.sealed_previous_secret !== null && (row.previous_expires_at ?? 0) > nowMs)
		sealed.push(row.sealed_previous_secret);
	return Promise.all(sealed.map((s) => openText(sealingKey(env), s, context(row.tenant_id, row.id))));
}

/** The Standard Webhooks headers of one attempt, signed with every live secret at `nowMs`. */
export async function signedHeaders(
	env: Env,
	row: EndpointRow,
	messageId: string,
	body: string,
	nowMs: number,
): Promise<Record<string, string>> {
	const secrets = await liveSecrets(env, row, nowMs);
	return webhookHeaders(secrets, { id: messageId, timestampSeconds: Math.floor(nowMs / 1000), body });
}

function sealingKey(env: Env): string {
	if (!env.SIGNING_SECRETS_KEY) throw new Error("SIGNING_SECRETS_KEY is not set");
	return env.SIGNING_SECRETS_KEY;
}

function context(tenantId: string, endpointId: string): string {
	return `webhook_endpoints:${tenantId}:${endpointId}`;
}
