/** The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (Stripe's scheme). */
export const SIGNATURE_HEADER = "Floodgate-Signature";

export async function signBody(secret: string, body: string, timestampSeconds: number): Promise<string> {
	const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${timestampSeconds}.${body}`));
	const hex = [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
	return `t=${timestampSeconds},v1=${hex}`;
}

/** What a receiver runs: recomputes the MAC and compares in constant time; rejects stale timestamps. */
export async function verifySignature(secret: string, body: string, header: string, nowSeconds: number, toleranceSeconds = 300): Promise<boolean> {
	const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
	if (!match?.[1] || !match[2]) return false;
	const t = Number(match[1]);
	if (Math.abs(nowSeconds - t) > toleranceSeconds) return false;
	const expected = new TextEncoder().encode(await signBody(secret, body, t));
	const given = new TextEncoder().encode(header);
	return expected.byteLength === given.byteLength && crypto.subtle.timingSafeEqual(expected, given);
}
