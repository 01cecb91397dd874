import type { ReportWindow } from "./domain";
import { DEFAULT_REPORT_WINDOW } from "./domain";

type WindowRow = { start_minute: number; duration_minutes: number };

/** The tenant's report window, or the platform default when it has not set one. */
export async function findReportWindow(db: D1Database, tenantId: string): Promise<ReportWindow> {
	const row = await db
		.prepare("SELECT start_minute, duration_minutes FROM report_windows WHERE tenant_id = ?")
		.bind(tenantId)
		.first<WindowRow>();
	return row ? { startMinute: row.start_minute, durationMinutes: row.duration_minutes } : DEFAULT_REPORT_WINDOW;
}

export async function saveReportWindow(
	db: D1Database,
	tenantId: string,
	window: ReportWindow,
	now: number,
): Promise<void> {
	await db
		.prepare(
			`INSERT INTO report_windows (tenant_id, start_minute, duration_minutes, updated_at) VALUES (?, ?, ?, ?)
			 ON CONFLICT (tenant_id) DO UPDATE SET start_minute = excluded.start_minute, duration_minutes = excluded.duration_minutes, updated_at = excluded.updated_at`,
		)
		.bind(tenantId, window.startMinute, window.durationMinutes, now)
		.run();
}

/** Every tenant's window that differs from the default (for the cron's missed-report check). */
export async function listReportWindows(db: D1Database): Promise<Map<string, ReportWindow>> {
	const { results } = await db
		.prepare("SELECT tenant_id, start_minute, duration_minutes FROM report_windows")
		.all<WindowRow & { tenant_id: string }>();
	return new Map(
		results.map((r) => [r.tenant_id, { startMinute: r.start_minute, durationMinutes: r.duration_minutes }]),
	);
}

/** At most this many machines of one zone are ranked; machines past it are placed by hash. */
export const MAX_RANKED_MACHINES = 200_000;

/**
 * The active vending machines of a tenant's zone in registration order (created_at, then id): a
 * machine's index here is its rank for slot placement (src/devices/slots/placement.ts).
 */
export async function listZoneMachines(db: D1Database, tenantId: string, timezone: string): Promise<string[]> {
	const { results } = await db
		.prepare(
			`SELECT device_id FROM devices WHERE tenant_id = ? AND timezone = ? AND kind = 'vending' AND revoked_at IS NULL
			 ORDER BY created_at, device_id LIMIT ?`,
		)
		.bind(tenantId, timezone, MAX_RANKED_MACHINES)
		.all<{ device_id: string }>();
	return results.map((r) => r.device_id);
}
