import { fromHex, hmacSha256, toHex, verifyHmacSha256 } from "../platform/crypto";

/**
 * Signed one-click unsubscribe links (RFC 8058): `<tenant>.<campaign>.<subscriber>.<hmac>`, the
 * HMAC-SHA256 under EMAIL_UNSUBSCRIBE_SECRET over the first three parts. No login needed: the
 * signature is the credential, and it only ever unsubscribes that one recipient.
 */

export type UnsubscribeTarget = { tenantId: string; campaignId: string; subscriberId: number };

const PART = /^[A-Za-z0-9_-]{1,64}$/;

export async function unsubscribeToken(secret: string, t: UnsubscribeTarget): Promise<string> {
	const payload = `${t.tenantId}.${t.campaignId}.${t.subscriberId}`;
	return `${payload}.${toHex(await hmacSha256(secret, payload))}`;
}

/** The target of a valid token, or null (malformed or a bad signature). */
export async function verifyUnsubscribeToken(secret: string, token: string): Promise<UnsubscribeTarget | null> {
	const parts = token.split(".");
	if (parts.length !== 4) return null;
	const [tenantId = "", campaignId = "", subscriber = "", mac = ""] = parts;
	if (!PART.test(tenantId) || !PART.test(campaignId) || !/^[1-9][0-9]{0,15}$/.test(subscriber)) return null;
	const bytes = fromHex(mac);
	if (bytes === null || bytes.byteLength !== 32) return null;
	const ok = await verifyHmacSha256(secret, `${tenantId}.${campaignId}.${subscriber}`, bytes);
	return ok ? { tenantId, campaignId, subscriberId: Number(subscriber) } : null;
}

export function unsubscribeUrl(base: string, token: string): string {
	return `${base.replace(/\/+$/, "")}/u/${token}`;
}
