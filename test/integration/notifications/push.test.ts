import { base64url, importJWK, jwtVerify } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createTenant } from "../helpers";
import { channel, putTemplate, send, waitForNotification } from "./notifications-helpers";

const PUSH = "https://push.example";
type Pushed = { headers: Headers; body: Uint8Array<ArrayBuffer> };

afterEach(() => vi.restoreAllMocks());

/** The push service (a third party): intercepted at its hostname; it answers `status`. */
function interceptPush(status: () => number): Pushed[] {
	const seen: Pushed[] = [];
	const real = globalThis.fetch;
	vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
		const req = new Request(input, init);
		if (!req.url.startsWith(`${PUSH}/`)) return real(input, init);
		seen.push({ headers: new Headers(req.headers), body: new Uint8Array(await req.arrayBuffer()) });
		return new Response(null, { status: status() });
	});
	return seen;
}

/** A browser's subscription: its ECDH key pair and auth secret. */
async function browser() {
	const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
	if (!("privateKey" in pair)) throw new Error("no key pair");
	const raw = await crypto.subtle.exportKey("raw", pair.publicKey);
	if (!(raw instanceof ArrayBuffer)) throw new Error("no raw key");
	const auth = crypto.getRandomValues(new Uint8Array(16));
	return {
		pair,
		publicKey: new Uint8Array(raw),
		auth,
		keys: { p256dh: base64url.encode(new Uint8Array(raw)), auth: base64url.encode(auth) },
	};
}

async function hkdf(
	salt: Uint8Array<ArrayBuffer>,
	ikm: Uint8Array<ArrayBuffer>,
	info: Uint8Array<ArrayBuffer>,
	bytes: number,
) {
	const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
	return new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, key, bytes * 8));
}

function joined(...parts: (Uint8Array | string)[]): Uint8Array<ArrayBuffer> {
	const arrays = parts.map((p) => (typeof p === "string" ? new TextEncoder().encode(p) : p));
	const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
	let at = 0;
	for (const a of arrays) {
		out.set(a, at);
		at += a.length;
	}
	return out;
}

/** The receiver's side of RFC 8291 / RFC 8188 (aes128gcm), written from the RFCs for the test. */
async function decrypt(body: Uint8Array<ArrayBuffer>, ua: Awaited<ReturnType<typeof browser>>): Promise<string> {
	const salt = body.slice(0, 16);
	const rs = new DataView(body.buffer).getUint32(16);
	const idlen = body[20] ?? 0;
	const asPublic = body.slice(21, 21 + idlen);
	expect(rs).toBeGreaterThanOrEqual(body.length - 21 - idlen);
	const asKey = await crypto.subtle.importKey("raw", asPublic, { name: "ECDH", namedCurve: "P-256" }, false, []);
	const algorithm = { name: "ECDH", public: asKey };
	const ecdh = new Uint8Array(await crypto.subtle.deriveBits(algorithm, ua.pair.privateKey, 256));
	const ikm = await hkdf(joined(ua.auth), ecdh, joined("WebPush: info\0", ua.publicKey, asPublic), 32);
	const cek = await hkdf(salt, ikm, joined("Content-Encoding: aes128gcm\0"), 16);
	const nonce = await hkdf(salt, ikm, joined("Content-Encoding: nonce\0"), 12);
	const key = await crypto.subtle.importKey("raw", cek, "AES-GCM", false, ["decrypt"]);
	const padded = new Uint8Array(
		await crypto.subtle.decrypt({ name: "AES-GCM", iv: nonce }, key, body.slice(21 + idlen)),
	);
	let end = padded.length - 1;
	while (end >= 0 && padded[end] === 0) end--;
	expect(padded[end]).toBe(2);
	return new TextDecoder().decode(padded.slice(0, end));
}

describe("Web Push", () => {
	it("sends an RFC 8291 message the subscriber decrypts, with a VAPID JWT for the push service", async () => {
		const seen = interceptPush(() => 201);
		const ua = await browser();
		const { apiKey } = await createTenant();
		await putTemplate(apiKey, "order-shipped", {
			category: "orders",
			channels: { push: { title: "Shipped", body: "Order {{order}} is on its way" } },
		});
		const id = await send(apiKey, {
			recipient: { user_id: "u-push", push_subscriptions: [{ endpoint: `${PUSH}/sub/1`, keys: ua.keys }] },
			priority: "high",
		});
		await waitForNotification(apiKey, id, (v) => channel(v, "push")?.status === "sent");
		expect(seen).toHaveLength(1);
		const [push] = seen;
		expect(push?.headers.get("content-encoding")).toBe("aes128gcm");
		expect(push?.headers.get("urgency")).toBe("high");
		expect(JSON.parse(await decrypt(push?.body ?? new Uint8Array(), ua))).toEqual({
			notification_id: id,
			category: "orders",
			title: "Shipped",
			body: "Order 42 is on its way",
		});
		const match = /^vapid t=([^,]+), k=(.+)$/.exec(push?.headers.get("authorization") ?? "");
		const k = base64url.decode(match?.[2] ?? "");
		const vapidKey = await importJWK(
			{ kty: "EC", crv: "P-256", x: base64url.encode(k.slice(1, 33)), y: base64url.encode(k.slice(33, 65)) },
			"ES256",
		);
		const { payload } = await jwtVerify(match?.[1] ?? "", vapidKey, { audience: PUSH });
		expect(payload.sub).toBe("mailto:ops@floodgate.local");
	});

	it("retries a failed subscription without re-sending to the one that accepted", async () => {
		let calls = 0;
		// The first subscription accepts; the second fails once, then accepts.
		const seen = interceptPush(() => (++calls === 2 ? 503 : 201));
		const [a, b] = [await browser(), await browser()];
		const { apiKey } = await createTenant();
		await putTemplate(apiKey, "order-shipped", { channels: { push: { title: "T", body: "B {{order}}" } } });
		const id = await send(apiKey, {
			recipient: {
				user_id: "u-push2",
				push_subscriptions: [
					{ endpoint: `${PUSH}/sub/a`, keys: a.keys },
					{ endpoint: `${PUSH}/sub/b`, keys: b.keys },
				],
			},
		});
		await waitForNotification(apiKey, id, (v) => channel(v, "push")?.status === "sent", 10_000);
		expect(seen).toHaveLength(3);
		expect(await decrypt(seen[2]?.body ?? new Uint8Array(), b)).toContain('"body":"B 42"');
	});
});
