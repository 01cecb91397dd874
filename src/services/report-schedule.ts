import { findDevice } from "../db/devices";
import { findReportWindow, saveReportWindow } from "../db/report-windows";
import type { ReportTiming, ReportWindow } from "../domain/report-slots";
import { reportTiming } from "../domain/report-slots";

/**
 * Report windows and device time zones as the request path needs them: cached in the isolate
 * (plain data) so the nightly surge of reports does not add D1 reads per report.
 */

const CACHE_MS = 60_000;
const MAX_ENTRIES = 50_000;

const windows = new Map<string, { window: ReportWindow; expiresAt: number }>();
const zones = new Map<string, { timezone: string | null; expiresAt: number }>();

export async function reportWindowOf(db: D1Database, tenantId: string, now = Date.now()): Promise<ReportWindow> {
	const cached = windows.get(tenantId);
	if (cached && cached.expiresAt > now) return cached.window;
	const window = await findReportWindow(db, tenantId);
	if (windows.size >= MAX_ENTRIES) windows.clear();
	windows.set(tenantId, { window, expiresAt: now + CACHE_MS });
	return window;
}

export async function setReportWindow(db: D1Database, tenantId: string, window: ReportWindow): Promise<void> {
	await saveReportWindow(db, tenantId, window, Date.now());
	windows.delete(tenantId);
}

/**
 * For the machine-report route: `next_report_at` and `in_slot` for a report received at `nowMs`
 * from a registered vending machine, or null when the tenant has no such active machine (then
 * the route answers without them).
 */
export async function reportTimingFor(db: D1Database, tenantId: string, deviceId: string, nowMs = Date.now()): Promise<ReportTiming | null> {
	const timezone = await vendingTimezoneOf(db, tenantId, deviceId, nowMs);
	if (timezone === null) return null;
	return reportTiming({ tenantId, deviceId, timezone }, await reportWindowOf(db, tenantId, nowMs), nowMs);
}

/**
 * Seeds the time-zone cache from a lookup already made (device authentication reads the same
 * row), so a device's first report needs one D1 read, not two.
 */
export function rememberDeviceTimezone(tenantId: string, deviceId: string, timezone: string | null, now = Date.now()): void {
	if (zones.size >= MAX_ENTRIES) zones.clear();
	zones.set(`${tenantId}\u0000${deviceId}`, { timezone, expiresAt: now + CACHE_MS });
}

async function vendingTimezoneOf(db: D1Database, tenantId: string, deviceId: string, now: number): Promise<string | null> {
	const key = `${tenantId}\u0000${deviceId}`;
	const cached = zones.get(key);
	if (cached && cached.expiresAt > now) return cached.timezone;
	const row = await findDevice(db, tenantId, deviceId);
	const timezone = row && row.kind === "vending" && row.revoked_at === null ? row.timezone : null;
	if (zones.size >= MAX_ENTRIES) zones.clear();
	zones.set(key, { timezone, expiresAt: now + CACHE_MS });
	return timezone;
}
