import { hmacSha256, timingSafeEqualText, toHex } from "../../platform/crypto";

/** The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (Stripe's scheme). */
export const SIGNATURE_HEADER = "Floodgate-Signature";

export async function signBody(secret: string, body: string, timestampSeconds: number): Promise<string> {
	const hex = toHex(await hmacSha256(secret, `${timestampSeconds}.${body}`));
	return `t=${timestampSeconds},v1=${hex}`;
}

/** What a receiver runs: recomputes the MAC and compares in constant time; rejects stale timestamps. */
export async function verifySignature(
	secret: string,
	body: string,
	header: string,
	nowSeconds: number,
	toleranceSeconds = 300,
): Promise<boolean> {
	const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
	if (!match?.[1] || !match[2]) return false;
	const t = Number(match[1]);
	if (Math.abs(nowSeconds - t) > toleranceSeconds) return false;
	return timingSafeEqualText(await signBody(secret, body, t), header);
}
