import type { CampaignRow } from "./campaigns-db";
import type { ListRow, SubscriberRow } from "./db";
import type { DeadLetterRow } from "./ledger-db";
import { progressOf, SUBSCRIBER_STATUSES } from "./domain";

/** Rows as the API answers them. */

export function listJson(row: ListRow, counts: Record<string, number>) {
	return {
		list_id: row.list_id,
		name: row.name,
		created_at: row.created_at,
		counts: Object.fromEntries(SUBSCRIBER_STATUSES.map((s) => [s, counts[s] ?? 0])),
	};
}

export function subscriberJson(row: SubscriberRow) {
	return {
		subscriber_id: row.id,
		email: row.email,
		first_name: row.first_name,
		last_name: row.last_name,
		status: row.status,
		created_at: row.created_at,
		updated_at: row.updated_at,
	};
}

export function campaignJson(row: CampaignRow, now: number) {
	return {
		campaign_id: row.campaign_id,
		name: row.name,
		list_id: row.list_id,
		from: row.from_address,
		subject: row.subject,
		text: row.text_body,
		html: row.html_body,
		status: row.status,
		total: row.total,
		sent: row.sent,
		failed: row.failed,
		bounced: row.bounced,
		suppressed: row.suppressed,
		...progressOf(row, now),
		last_error: row.last_error,
		created_at: row.created_at,
		started_at: row.started_at,
		finished_at: row.finished_at,
	};
}

export function deadLetterJson(row: DeadLetterRow) {
	return {
		subscriber_id: row.subscriber_id,
		email: row.email,
		attempts: row.attempts,
		reason: row.last_error,
		failed_at: row.updated_at,
	};
}
