import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import {
	generateWebhookSecret,
	verifyWebhook,
	webhookHeaders,
	webhookKeyBytes,
	webhookSignature,
} from "../../../src/platform/webhook-signature";
import { openText, sealText } from "../../../src/platform/crypto";

const NOW = 1_700_000_000;
const MESSAGE = { id: "msg_1", timestampSeconds: NOW, body: '{"a":1}' };

describe("Standard Webhooks signatures", () => {
	it("makes whsec_ secrets of 32 random bytes, all different", () => {
		const a = generateWebhookSecret();
		expect(a).toMatch(/^whsec_/);
		expect(webhookKeyBytes(a)?.byteLength).toBe(32);
		expect(generateWebhookSecret()).not.toBe(a);
		expect(webhookKeyBytes("whsec_" + btoa("short"))).toBeNull();
		expect(webhookKeyBytes("sk_" + btoa("x".repeat(32)))).toBeNull();
	});

	it("matches the standardwebhooks package's own signature for the same message", async () => {
		const secret = generateWebhookSecret();
		const theirs = new Webhook(secret).sign(MESSAGE.id, new Date(NOW * 1000), MESSAGE.body);
		expect(await webhookSignature(secret, MESSAGE)).toBe(theirs);
	});

	it("verifies with any one of several space-separated signatures, and within the tolerance only", async () => {
		const [oldSecret, newSecret, stranger] = [
			generateWebhookSecret(),
			generateWebhookSecret(),
			generateWebhookSecret(),
		];
		const headers = new Headers(await webhookHeaders([newSecret, oldSecret], MESSAGE));
		expect(headers.get("webhook-signature")?.split(" ")).toHaveLength(2);
		expect(await verifyWebhook(newSecret, headers, MESSAGE.body, NOW)).toBe(true);
		expect(await verifyWebhook(oldSecret, headers, MESSAGE.body, NOW + 299)).toBe(true);
		expect(await verifyWebhook(stranger, headers, MESSAGE.body, NOW)).toBe(false);
		expect(await verifyWebhook(newSecret, headers, `${MESSAGE.body} `, NOW)).toBe(false);
		expect(await verifyWebhook(newSecret, headers, MESSAGE.body, NOW + 301)).toBe(false);
		await expect(webhookHeaders([], MESSAGE)).rejects.toThrow();
	});
});

describe("sealed secrets", () => {
	it("opens only with the same key and the same context", async () => {
		const sealed = await sealText("master-1", "whsec_secret", "t1:s1");
		expect(sealed).not.toContain("whsec_secret");
		expect(await openText("master-1", sealed, "t1:s1")).toBe("whsec_secret");
		await expect(openText("master-2", sealed, "t1:s1")).rejects.toThrow();
		await expect(openText("master-1", sealed, "t2:s1")).rejects.toThrow();
	});
});
