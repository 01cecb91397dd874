import { env } from "cloudflare:workers";
import { call, json } from "../helpers";
import type { Json } from "../helpers";

/** A valid payment body for `machine`, charged with `token`. */
export function paymentBody(token = "tok_visa", machine = "vm-001"): Json {
	return {
		machine_id: machine,
		amount_cents: 350,
		currency: "EUR",
		card_token: token,
		items: [
			{ slot: "A1", sku: "cola-330", quantity: 1, price_cents: 200 },
			{ slot: "B2", sku: "chips-50", quantity: 1, price_cents: 150 },
		],
	};
}

export function pay(
	apiKey: string,
	key: string | null,
	body: unknown,
	headers: Record<string, string> = {},
): Promise<Response> {
	return call("POST", "/api/v1/payments", {
		token: apiKey,
		body,
		headers: key === null ? headers : { ...headers, "Idempotency-Key": key },
	});
}

/** The sandbox processor's headers for an operator (admin token) acting on `tenantId`'s sandbox account. */
export function sandboxAdmin(tenantId: string): { token: string; headers: Record<string, string> } {
	return { token: env.ADMIN_TOKEN, headers: { "Floodgate-Tenant-Id": tenantId } };
}

/** The charges the sandbox processor recorded under our key (scoped to the tenant, as the platform sends it). */
export async function processorCharges(tenantId: string, key: string): Promise<Json[]> {
	const res = await call(
		"GET",
		`/_sandbox/processor/charges?idempotency_key=${encodeURIComponent(`${tenantId}:${key}`)}`,
		sandboxAdmin(tenantId),
	);
	if (res.status !== 200) throw new Error(`sandbox listing failed: ${res.status}`);
	return (await json(res)).charges as Json[];
}

export function uniqueKey(label: string): string {
	return `${label}-${crypto.randomUUID()}`;
}
