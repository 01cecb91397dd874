/**
 * Maintenance tickets a machine's report calls for. A ticket is keyed by machine, reason and day,
 * so the same problem reported again (a resend, a redelivery) never opens a second one.
 */

export type TicketDraft = { reason: string; detail: string };
export type TemperatureRange = { minC: number; maxC: number };
export type ReportHealth = { temperature_c?: number | null; error_codes?: readonly string[] | null };

/** Refrigerated vending: below freezing spoils drinks, above 10 °C spoils food. */
export const DEFAULT_TEMPERATURE_RANGE: TemperatureRange = { minC: 0, maxC: 10 };
export const MISSED_REPORT = "missed_report";

export function ticketsForReport(
	report: ReportHealth,
	range: TemperatureRange = DEFAULT_TEMPERATURE_RANGE,
): TicketDraft[] {
	const tickets: TicketDraft[] = [];
	for (const code of new Set(report.error_codes ?? [])) {
		tickets.push({ reason: `error:${code}`, detail: `The machine reported error code ${code}.` });
	}
	const t = report.temperature_c;
	if (typeof t === "number" && Number.isFinite(t)) {
		if (t > range.maxC)
			tickets.push({ reason: "temperature_high", detail: `Temperature ${t} °C is above ${range.maxC} °C.` });
		if (t < range.minC)
			tickets.push({ reason: "temperature_low", detail: `Temperature ${t} °C is below ${range.minC} °C.` });
	}
	return tickets;
}
