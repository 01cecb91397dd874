import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Webhook } from "standardwebhooks";
import { call, createTenant, json } from "../helpers";
import type { Json } from "../helpers";
import { enqueue, interceptOutbound, waitForJob } from "./jobs-helpers";
import type { Seen } from "./jobs-helpers";

afterEach(() => vi.restoreAllMocks());

/** Runs one http job for the tenant and returns the delivery the receiver saw. */
async function deliver(apiKey: string, seen: Seen[], body: unknown = { n: 1 }): Promise<Seen> {
	const before = seen.length;
	const id = await enqueue(apiKey, { type: "http", payload: { url: "https://receiver.example/hook", body } });
	await waitForJob(apiKey, id, (j) => j.status === "completed");
	const delivery = seen[before];
	if (!delivery) throw new Error("no delivery");
	return delivery;
}

function verifies(secret: string, delivery: Seen): boolean {
	try {
		new Webhook(secret).verify(delivery.body, Object.fromEntries(delivery.headers));
		return true;
	} catch {
		return false;
	}
}

function rotate(apiKey: string, query = ""): Promise<Response> {
	return call("POST", `/api/v1/signing-secrets/rotate${query}`, { token: apiKey });
}

describe("signatures of http jobs (Standard Webhooks, one secret per tenant)", () => {
	it("signs webhook-id, webhook-timestamp and v1 over id.timestamp.body, verified by the standardwebhooks package", async () => {
		const seen = interceptOutbound(async () => new Response("ok"));
		const { apiKey, signingSecret } = await createTenant();
		expect(signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
		const delivery = await deliver(apiKey, seen, { order: 42 });
		expect(delivery.headers.get("webhook-id")).toMatch(/^job_[0-9a-f]{32}$/);
		expect(Math.abs(Number(delivery.headers.get("webhook-timestamp")) - Date.now() / 1000)).toBeLessThan(60);
		expect(delivery.headers.get("webhook-signature")).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
		expect(delivery.headers.has("Floodgate-Signature")).toBe(false);
		expect(new Webhook(signingSecret).verify(delivery.body, Object.fromEntries(delivery.headers))).toEqual({
			order: 42,
		});
	});

	it("does not let tenant A's signature verify under tenant B's secret, nor A's signature be replayed to B", async () => {
		const seen = interceptOutbound(async () => new Response("ok"));
		const a = await createTenant("a");
		const b = await createTenant("b");
		const same = { transfer: 100 };
		const fromA = await deliver(a.apiKey, seen, same);
		const fromB = await deliver(b.apiKey, seen, same);
		expect(verifies(a.signingSecret, fromA)).toBe(true);
		expect(verifies(b.signingSecret, fromA)).toBe(false);
		expect(verifies(b.signingSecret, fromB)).toBe(true);
		// B's receiver given A's signature on the very same body and B's id/timestamp still rejects it.
		const forged = new Headers(fromB.headers);
		forged.set("webhook-signature", fromA.headers.get("webhook-signature") ?? "");
		expect(verifies(b.signingSecret, { ...fromB, headers: forged })).toBe(false);
	});

	it("signs with the old and the new secret during the rotation overlap, and only the new one after it", async () => {
		const seen = interceptOutbound(async () => new Response("ok"));
		const { apiKey, signingSecret: old } = await createTenant();
		const rotated = await rotate(apiKey);
		expect(rotated.status).toBe(201);
		const body = await json(rotated);
		const fresh = String(body.secret);
		expect(fresh).toMatch(/^whsec_/);
		expect(fresh).not.toBe(old);
		expect(body).toMatchObject({ current: true, expires_at: null, prefix: fresh.slice(0, 12) });
		const previous = body.previous as Json[];
		expect(previous).toHaveLength(1);
		expect(Date.parse(String(previous[0]?.expires_at)) - Date.now()).toBeGreaterThan(86_400_000 - 60_000);

		const during = await deliver(apiKey, seen);
		expect(during.headers.get("webhook-signature")?.split(" ")).toHaveLength(2);
		expect(verifies(old, during)).toBe(true);
		expect(verifies(fresh, during)).toBe(true);

		// A rotation with no overlap retires every older secret at once.
		const last = String((await json(await rotate(apiKey, "?overlap_seconds=0"))).secret);
		const after = await deliver(apiKey, seen);
		expect(after.headers.get("webhook-signature")?.split(" ")).toHaveLength(1);
		expect(verifies(last, after)).toBe(true);
		expect(verifies(fresh, after)).toBe(false);
		expect(verifies(old, after)).toBe(false);
	});

	it("lists ids, prefixes and expiry but never a secret, and stores secrets only sealed", async () => {
		const { tenantId, apiKey, signingSecret } = await createTenant();
		const fresh = String((await json(await rotate(apiKey))).secret);
		const listing = await call("GET", "/api/v1/signing-secrets", { token: apiKey });
		expect(listing.status).toBe(200);
		const text = await listing.text();
		expect(text).not.toContain(signingSecret.slice(6));
		expect(text).not.toContain(fresh.slice(6));
		const { signing_secrets } = JSON.parse(text) as { signing_secrets: Json[] };
		expect(signing_secrets.map((s) => s.current)).toEqual([true, false]);
		expect(signing_secrets[0]).toMatchObject({ prefix: fresh.slice(0, 12), expires_at: null });
		const { results } = await env.DB.prepare("SELECT * FROM signing_secrets WHERE tenant_id = ?")
			.bind(tenantId)
			.all<Record<string, unknown>>();
		expect(results).toHaveLength(2);
		const stored = JSON.stringify(results);
		expect(stored).not.toContain(signingSecret.slice(6));
		expect(stored).not.toContain(fresh.slice(6));
		// Another tenant sees only its own.
		const other = await createTenant("other");
		const theirs = await json(await call("GET", "/api/v1/signing-secrets", { token: other.apiKey }));
		expect(theirs.signing_secrets as Json[]).toHaveLength(1);
	});

	it("creates a secret on first use for a tenant that has none (tenants created before secrets)", async () => {
		const seen = interceptOutbound(async () => new Response("ok"));
		const { tenantId, apiKey } = await createTenant();
		await env.DB.prepare("DELETE FROM signing_secrets WHERE tenant_id = ?").bind(tenantId).run();
		const delivery = await deliver(apiKey, seen);
		expect(delivery.headers.get("webhook-signature")).toMatch(/^v1,/);
		const listed = await json(await call("GET", "/api/v1/signing-secrets", { token: apiKey }));
		expect(listed.signing_secrets as Json[]).toHaveLength(1);
		// The tenant learns it by rotating; the first-use secret then overlaps for the default day.
		const rotated = await json(await rotate(apiKey));
		expect(verifies(String(rotated.secret), await deliver(apiKey, seen))).toBe(true);
	});

	it("refuses an overlap longer than 7 days or negative with 400, writing nothing", async () => {
		const { apiKey } = await createTenant();
		for (const q of ["?overlap_seconds=604801", "?overlap_seconds=-1", "?overlap=5"]) {
			const res = await rotate(apiKey, q);
			expect(res.status).toBe(400);
			expect(await json(res)).toMatchObject({ error: { code: "validation_failed" } });
		}
		const listed = await json(await call("GET", "/api/v1/signing-secrets", { token: apiKey }));
		expect(listed.signing_secrets as Json[]).toHaveLength(1);
	});
});
