import type { DeviceRow } from "./db";
import type { ReportWindow } from "./slots/domain";

/** The API's shapes of a device and a report window (shared by the registry and a device's own routes). */

export function deviceJson(d: DeviceRow) {
	return {
		device_id: d.device_id,
		kind: d.kind,
		timezone: d.timezone,
		city: d.city,
		lat: d.lat,
		lng: d.lng,
		token_prefix: d.token_prefix,
		signed: d.signed === 1,
		created_at: iso(d.created_at),
		rotated_at: d.rotated_at === null ? null : iso(d.rotated_at),
		revoked_at: d.revoked_at === null ? null : iso(d.revoked_at),
	};
}

export function windowJson(w: ReportWindow) {
	const hh = String(Math.floor(w.startMinute / 60)).padStart(2, "0");
	const mm = String(w.startMinute % 60).padStart(2, "0");
	return { start: `${hh}:${mm}`, duration_minutes: w.durationMinutes };
}

function iso(ms: number): string {
	return new Date(ms).toISOString();
}
