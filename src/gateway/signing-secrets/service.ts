import type { SigningSecretRow } from "./db";
import { insertFirstSecret, listLiveSecrets, rotateSecrets } from "./db";
import { newId, openText, sealText } from "../../platform/crypto";
import { generateWebhookSecret } from "../../platform/webhook-signature";

/**
 * Each tenant's signing secrets for outbound deliveries (Standard Webhooks `whsec_…`): created
 * with the tenant (or on first use for older tenants), rotated by the tenant with an overlap during
 * which old and new both sign. Stored sealed under SIGNING_SECRETS_KEY; the plaintext is returned
 * only to sign, and to the caller once, when a secret is created.
 */

export type NewSecret = { secret: string; row: SigningSecretRow };

/** Default time a rotated-out secret keeps signing: receivers have a day to switch. */
export const DEFAULT_OVERLAP_SECONDS = 86_400;
export const MAX_OVERLAP_SECONDS = 7 * 86_400;
/** How much of a secret a listing shows: `whsec_` and 6 characters (36 of its 256 bits). */
const PREFIX_LENGTH = 12;

/** The secrets to sign with now, current first; creates the tenant's first secret if it has none. */
export async function signingSecretsFor(env: Env, tenantId: string, now = Date.now()): Promise<string[]> {
	let rows = await listLiveSecrets(env.DB, tenantId, now);
	if (rows.length === 0) {
		await createFirstSigningSecret(env, tenantId, now);
		rows = await listLiveSecrets(env.DB, tenantId, now);
	}
	return Promise.all(rows.map((row) => openText(sealingKey(env), row.sealed_secret, sealContext(row))));
}

/** The tenant's first secret (at tenant creation), or null when it already has a current one. */
export async function createFirstSigningSecret(
	env: Env,
	tenantId: string,
	now = Date.now(),
): Promise<NewSecret | null> {
	const created = await newSecret(env, tenantId, now);
	return (await insertFirstSecret(env.DB, created.row)) ? created : null;
}

/** A new current secret; the live ones keep signing for `overlapSeconds` more at most. */
export async function rotateSigningSecret(
	env: Env,
	tenantId: string,
	overlapSeconds: number,
	now = Date.now(),
): Promise<{ created: NewSecret; previous: SigningSecretRow[] }> {
	const created = await newSecret(env, tenantId, now);
	await rotateSecrets(env.DB, created.row, now + overlapSeconds * 1000, now);
	const live = await listLiveSecrets(env.DB, tenantId, now);
	return { created, previous: live.filter((row) => row.id !== created.row.id) };
}

export function listSigningSecrets(env: Env, tenantId: string, now = Date.now()): Promise<SigningSecretRow[]> {
	return listLiveSecrets(env.DB, tenantId, now);
}

async function newSecret(env: Env, tenantId: string, now: number): Promise<NewSecret> {
	const secret = generateWebhookSecret();
	const id = newId("whs");
	const sealed = await sealText(sealingKey(env), secret, sealContext({ id, tenant_id: tenantId }));
	return {
		secret,
		row: {
			id,
			tenant_id: tenantId,
			sealed_secret: sealed,
			prefix: secret.slice(0, PREFIX_LENGTH),
			created_at: now,
			expires_at: null,
		},
	};
}

function sealingKey(env: Env): string {
	if (!env.SIGNING_SECRETS_KEY) throw new Error("SIGNING_SECRETS_KEY is not set");
	return env.SIGNING_SECRETS_KEY;
}

/** Binds a sealed secret to its row: copied to another tenant's row it does not open. */
function sealContext(row: Pick<SigningSecretRow, "id" | "tenant_id">): string {
	return `signing_secrets:${row.tenant_id}:${row.id}`;
}
