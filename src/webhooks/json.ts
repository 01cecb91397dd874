import type { EndpointRow } from "./db";
import type { AttemptRow, DeliveryRow } from "./delivery-db";
import { parseSubscriptions } from "./endpoints";

/** Webhooks' answers as JSON (times as ISO 8601). */

export function endpointJson(row: EndpointRow, now = Date.now()) {
	return {
		id: row.id,
		url: row.url,
		description: row.description,
		event_types: parseSubscriptions(row.event_types),
		rate_limit: row.rate_limit,
		ordering_key: row.ordering_key,
		enabled: row.enabled === 1,
		disabled_reason: row.disabled_reason,
		failing_since: iso(row.failing_since),
		previous_secret_expires_at:
			row.previous_expires_at !== null && row.previous_expires_at > now ? iso(row.previous_expires_at) : null,
		created_at: iso(row.created_at),
		updated_at: iso(row.updated_at),
	};
}

export function deliveryJson(row: DeliveryRow) {
	return {
		delivery_id: row.id,
		endpoint_id: row.endpoint_id,
		status: row.status,
		attempts: row.attempts,
		next_attempt_at: iso(row.next_attempt_at),
		last_status_code: row.last_status_code,
		dead_reason: row.dead_reason,
		replay: row.origin_key === null,
		created_at: iso(row.created_at),
		updated_at: iso(row.updated_at),
	};
}

export function attemptJson(row: AttemptRow) {
	return {
		id: row.id,
		delivery_id: row.delivery_id,
		event_id: row.event_id,
		attempt: row.attempt,
		status_code: row.status_code,
		latency_ms: row.latency_ms,
		response_excerpt: row.response_excerpt,
		error: row.error,
		created_at: iso(row.created_at),
	};
}

function iso(ms: number | null): string | null {
	return ms === null ? null : new Date(ms).toISOString();
}
