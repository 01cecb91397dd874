import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../../src/index";
import { BASE, createTenant, json } from "../helpers";
import { paymentBody, uniqueKey } from "./payment-helpers";

afterEach(() => vi.restoreAllMocks());

async function payWith(processorUrl: string, apiKey: string, key: string): Promise<Response> {
	return await app.fetch(
		new Request(`${BASE}/api/v1/payments`, {
			method: "POST",
			headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json", "Idempotency-Key": key },
			body: JSON.stringify(paymentBody()),
		}),
		{ ...env, PAYMENT_PROCESSOR_URL: processorUrl },
		createExecutionContext(),
	);
}

describe("a remote card processor goes through the outbound policy", () => {
	it("charges through a public https processor, without the sandbox caller token", async () => {
		const seen: Request[] = [];
		vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
			const req = new Request(input, init);
			seen.push(req);
			return Response.json({ id: "ch_remote_1", status: "succeeded" });
		});
		const { apiKey } = await createTenant();
		const res = await payWith("https://processor.example/v1", apiKey, uniqueKey("remote"));
		expect(res.status).toBe(201);
		expect(await json(res)).toMatchObject({ processor_charge_id: "ch_remote_1" });
		expect(seen.map((r) => r.url)).toEqual(["https://processor.example/v1/charges"]);
		expect(seen[0]?.headers.has("Floodgate-Sandbox-Caller")).toBe(false);
		expect(seen[0]?.headers.has("Floodgate-Tenant-Id")).toBe(false);
	});

	it("never calls a processor URL inside the network, nor follows its redirects", async () => {
		const seen: string[] = [];
		vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
			const req = new Request(input, init);
			seen.push(req.url);
			return new Response(null, { status: 307, headers: { Location: "https://processor.example/elsewhere" } });
		});
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const { apiKey } = await createTenant();
		const inside = await payWith("https://169.254.169.254/latest", apiKey, uniqueKey("inside"));
		expect(inside.status).toBe(502);
		expect(await json(inside)).toMatchObject({ error: { code: "payment_processor_error" } });
		expect(seen).toEqual([]);
		const redirected = await payWith("https://processor.example/v1", apiKey, uniqueKey("redirect"));
		expect(redirected.status).toBe(502);
		expect(seen).toEqual(["https://processor.example/v1/charges"]);
	});
});
