import { fromBase64, toBase64 } from "./crypto";

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/), the one format every outbound
 * delivery of the platform uses (http jobs today, webhooks later):
 *
 *   webhook-id: <message id, the same on every retry>
 *   webhook-timestamp: <unix seconds>
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")> [v1,<…> …]
 *
 * where key is the base64-decoded part of a `whsec_<base64>` secret. Several signatures, space
 * separated, let a receiver holding either the old or the new secret verify during a rotation.
 * Any Standard Webhooks library verifies them (`new Webhook(secret).verify(body, headers)`).
 */

export type WebhookMessage = { id: string; timestampSeconds: number; body: string };

export const WEBHOOK_SECRET_PREFIX = "whsec_";
export const WEBHOOK_ID_HEADER = "webhook-id";
export const WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp";
export const WEBHOOK_SIGNATURE_HEADER = "webhook-signature";
/** The spec allows 24–64 bytes of key; we make 32 (HMAC-SHA256's block-friendly size). */
export const WEBHOOK_SECRET_BYTES = 32;
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const DEFAULT_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

/** A new secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
	return `${WEBHOOK_SECRET_PREFIX}${toBase64(crypto.getRandomValues(new Uint8Array(WEBHOOK_SECRET_BYTES)))}`;
}

/** The HMAC key of a `whsec_` secret, or null when it is not one (24–64 bytes of base64). */
export function webhookKeyBytes(secret: string): Uint8Array<ArrayBuffer> | null {
	if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) return null;
	const key = fromBase64(secret.slice(WEBHOOK_SECRET_PREFIX.length));
	return key && key.byteLength >= MIN_KEY_BYTES && key.byteLength <= MAX_KEY_BYTES ? key : null;
}

/** `v1,<base64>` of one secret over one message. */
export async function webhookSignature(secret: string, message: WebhookMessage): Promise<string> {
	const key = await importKey(secret, "sign");
	const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(signedContent(message)));
	return `v1,${toBase64(new Uint8Array(mac))}`;
}

/** The three headers of a delivery, signed with every secret given (current first). */
export async function webhookHeaders(
	secrets: readonly string[],
	message: WebhookMessage,
): Promise<Record<string, string>> {
	if (secrets.length === 0) throw new Error("no signing secret");
	const signatures = await Promise.all(secrets.map((secret) => webhookSignature(secret, message)));
	return {
		[WEBHOOK_ID_HEADER]: message.id,
		[WEBHOOK_TIMESTAMP_HEADER]: String(message.timestampSeconds),
		[WEBHOOK_SIGNATURE_HEADER]: signatures.join(" "),
	};
}

/**
 * What a receiver runs: true when one `v1` signature of the header matches under `secret` and the
 * timestamp is within `toleranceSeconds` of now (replays of old deliveries fail). Constant-time.
 */
export async function verifyWebhook(
	secret: string,
	headers: Headers,
	body: string,
	nowSeconds: number,
	toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): Promise<boolean> {
	const id = headers.get(WEBHOOK_ID_HEADER);
	const timestamp = headers.get(WEBHOOK_TIMESTAMP_HEADER);
	const signatures = headers.get(WEBHOOK_SIGNATURE_HEADER);
	if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) return false;
	const timestampSeconds = Number(timestamp);
	if (Math.abs(nowSeconds - timestampSeconds) > toleranceSeconds) return false;
	const key = await importKey(secret, "verify");
	const content = encoder.encode(signedContent({ id, timestampSeconds, body }));
	for (const entry of signatures.split(" ")) {
		const [version, value] = entry.split(",");
		const mac = version === "v1" && value !== undefined ? fromBase64(value) : null;
		if (mac && (await crypto.subtle.verify("HMAC", key, mac, content))) return true;
	}
	return false;
}

function signedContent(message: WebhookMessage): string {
	return `${message.id}.${message.timestampSeconds}.${message.body}`;
}

function importKey(secret: string, use: "sign" | "verify"): Promise<CryptoKey> {
	const key = webhookKeyBytes(secret);
	if (!key) throw new Error("not a whsec_ secret of 24 to 64 bytes");
	return crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [use]);
}
