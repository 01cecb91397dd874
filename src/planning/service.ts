import type { PlanningReport } from "./db";
import { applyReportsToPlanning } from "./db";

export type { PlanningReport };

/**
 * What the telemetry consumer asks of planning once a batch's reports are stored: restock needs,
 * maintenance tickets and the machines' last report dates (incremental and idempotent, and an
 * older report never replaces a newer night's needs).
 */
export function planFromReports(
	db: D1Database,
	reports: readonly { tenantId: string; report: PlanningReport }[],
	now: number,
): Promise<void> {
	return applyReportsToPlanning(db, reports, { now });
}
