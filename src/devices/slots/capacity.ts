import type { ReportWindow } from "./domain";
import { addDays, instantOfWallTime, localDateAt } from "../../platform/time-zones";

/**
 * Is a report window long enough? Machines in one time zone share a window, spread uniformly over
 * it: n machines over a window of w seconds arrive at n / w reports per second. Zones whose windows
 * overlap in UTC add up. The window is long enough when the peak of that sum stays at or under
 * what the ingest path sustains; for a single zone that is the rule, w >= n / rate.
 */

export type ZoneCount = { timezone: string; devices: number };
export type Capacity = {
	devices: number;
	sustainable_reports_per_second: number;
	peak_reports_per_second: number;
	sufficient: boolean;
	/** The window length (same start) at which the current overlap of zones would fit. */
	required_window_minutes: number;
	warning: string | null;
};

export function checkCapacity(
	zones: readonly ZoneCount[],
	window: ReportWindow,
	reportsPerSecond: number,
	nowMs: number,
): Capacity {
	const devices = zones.reduce((sum, z) => sum + z.devices, 0);
	const peak = peakReportRate(zones, window, nowMs);
	const sufficient = peak <= reportsPerSecond;
	// Rates scale with 1/length while the overlap of zones stays about the same.
	const required = Math.max(1, Math.ceil((window.durationMinutes * peak) / reportsPerSecond));
	return {
		devices,
		sustainable_reports_per_second: reportsPerSecond,
		peak_reports_per_second: Math.round(peak * 1000) / 1000,
		sufficient,
		required_window_minutes: required,
		warning: sufficient
			? null
			: `${devices} machines would peak at ${peak.toFixed(1)} reports/s in a ${window.durationMinutes}-minute window; the platform sustains ${reportsPerSecond}/s. Lengthen the window to at least ${required} minutes.`,
	};
}

/** The highest combined arrival rate (reports/s) over the nights around `nowMs`. */
export function peakReportRate(zones: readonly ZoneCount[], window: ReportWindow, nowMs: number): number {
	const seconds = window.durationMinutes * 60;
	const intervals: { start: number; end: number; rate: number }[] = [];
	for (const zone of zones) {
		if (zone.devices <= 0) continue;
		const today = localDateAt(zone.timezone, nowMs);
		for (const d of [-1, 0, 1]) {
			const start = instantOfWallTime(zone.timezone, addDays(today, d), window.startMinute);
			intervals.push({ start, end: start + seconds * 1000, rate: zone.devices / seconds });
		}
	}
	// The sum of step functions peaks at some interval's start.
	let peak = 0;
	for (const at of intervals) {
		let sum = 0;
		for (const other of intervals) if (other.start <= at.start && at.start < other.end) sum += other.rate;
		peak = Math.max(peak, sum);
	}
	return peak;
}
