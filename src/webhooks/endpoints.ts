import type { EndpointChanges, EndpointRow } from "./db";
import {
	countEndpoints,
	deleteEndpoint,
	findEndpoint,
	insertEndpoint,
	listEnabledEndpoints,
	saveRotation,
	setEnabled,
	updateEndpoint,
} from "./db";
import { WEBHOOK_LIMITS } from "./domain";
import { newEndpointSecret, sealEndpointSecret } from "./secrets";
import { AppError } from "../platform/errors";
import { newId } from "../platform/crypto";
import { TtlCache } from "../platform/ttl-cache";

/** Endpoint management, and the isolate cache of each tenant's enabled endpoints (publishing reads it). */

export type Subscriber = Pick<EndpointRow, "id" | "url" | "rate_limit" | "ordering_key"> & { subscriptions: string[] };
export type EndpointInput = {
	url: string;
	description?: string | undefined;
	event_types?: string[] | undefined;
	rate_limit?: number | null | undefined;
	ordering_key?: string | null | undefined;
};

/** A tenant's enabled endpoints for 10 s per isolate: publishing with no subscriber costs no query. */
const SUBSCRIBERS = new TtlCache<string, Subscriber[]>({ ttlMs: 10_000, maxEntries: 5_000 });

export async function createEndpoint(
	env: Env,
	tenantId: string,
	input: EndpointInput,
	now = Date.now(),
): Promise<{ row: EndpointRow; secret: string }> {
	if ((await countEndpoints(env.DB, tenantId)) >= WEBHOOK_LIMITS.maxEndpointsPerTenant) {
		throw new AppError(
			409,
			"too_many_endpoints",
			`A tenant has at most ${WEBHOOK_LIMITS.maxEndpointsPerTenant} endpoints.`,
		);
	}
	const id = newId("ep");
	const secret = newEndpointSecret();
	const row: EndpointRow = {
		id,
		tenant_id: tenantId,
		url: input.url,
		description: input.description ?? "",
		event_types: JSON.stringify(input.event_types ?? []),
		rate_limit: input.rate_limit ?? null,
		ordering_key: input.ordering_key ?? null,
		sealed_secret: await sealEndpointSecret(env, tenantId, id, secret),
		sealed_previous_secret: null,
		previous_expires_at: null,
		enabled: 1,
		disabled_reason: null,
		failing_since: null,
		created_at: now,
		updated_at: now,
	};
	await insertEndpoint(env.DB, row);
	SUBSCRIBERS.delete(tenantId);
	return { row, secret };
}

export async function requireEndpoint(env: Env, tenantId: string, id: string): Promise<EndpointRow> {
	const row = await findEndpoint(env.DB, tenantId, id);
	if (!row) throw new AppError(404, "endpoint_not_found", `No webhook endpoint '${id}'.`);
	return row;
}

export async function changeEndpoint(
	env: Env,
	tenantId: string,
	id: string,
	input: Partial<EndpointInput>,
): Promise<EndpointRow> {
	const changes: EndpointChanges = {};
	if (input.url !== undefined) changes.url = input.url;
	if (input.description !== undefined) changes.description = input.description;
	if (input.event_types !== undefined) changes.event_types = JSON.stringify(input.event_types);
	if (input.rate_limit !== undefined) changes.rate_limit = input.rate_limit;
	if (input.ordering_key !== undefined) changes.ordering_key = input.ordering_key;
	if (!(await updateEndpoint(env.DB, tenantId, id, changes, Date.now())))
		throw new AppError(404, "endpoint_not_found", `No webhook endpoint '${id}'.`);
	SUBSCRIBERS.delete(tenantId);
	return requireEndpoint(env, tenantId, id);
}

export async function removeEndpoint(env: Env, tenantId: string, id: string): Promise<void> {
	if (!(await deleteEndpoint(env.DB, tenantId, id)))
		throw new AppError(404, "endpoint_not_found", `No webhook endpoint '${id}'.`);
	SUBSCRIBERS.delete(tenantId);
}

/** A new current secret; the old one keeps signing (both in webhook-signature) for `overlapSeconds`. */
export async function rotateEndpointSecret(
	env: Env,
	tenantId: string,
	id: string,
	overlapSeconds: number,
	now = Date.now(),
): Promise<{ secret: string; previousExpiresAt: number }> {
	const row = await requireEndpoint(env, tenantId, id);
	const secret = newEndpointSecret();
	const previousExpiresAt = now + overlapSeconds * 1000;
	const current = await sealEndpointSecret(env, tenantId, id, secret);
	await saveRotation(env.DB, tenantId, id, { current, previous: row.sealed_secret, previousExpiresAt }, now);
	return { secret, previousExpiresAt };
}

/** Enables or disables an endpoint; true when its state changed. */
export async function switchEndpoint(
	env: Env,
	tenantId: string,
	id: string,
	enabled: boolean,
	reason: string | null,
): Promise<boolean> {
	const changed = await setEnabled(env.DB, tenantId, id, enabled, reason, Date.now());
	SUBSCRIBERS.delete(tenantId);
	return changed;
}

/** The tenant's enabled endpoints with their subscriptions, from the isolate cache when fresh. */
export async function subscribersOf(env: Env, tenantId: string): Promise<Subscriber[]> {
	const cached = SUBSCRIBERS.get(tenantId);
	if (cached) return cached;
	const rows = await listEnabledEndpoints(env.DB, tenantId);
	const subscribers = rows.map((r) => ({
		id: r.id,
		url: r.url,
		rate_limit: r.rate_limit,
		ordering_key: r.ordering_key,
		subscriptions: parseSubscriptions(r.event_types),
	}));
	SUBSCRIBERS.set(tenantId, subscribers);
	return subscribers;
}

export function parseSubscriptions(text: string): string[] {
	const parsed: unknown = JSON.parse(text);
	return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === "string") : [];
}
