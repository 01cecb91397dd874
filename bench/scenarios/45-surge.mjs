// Surge at any fleet size (issue 12 §3): the busiest UTC minute over the mean minute of one night's
// reports for 1,000, 10,000 and 100,000 machines in 16 time zones, from the platform's own slot
// code (src/devices/slots, bundled) — no platform is started, nothing is sent; `npm run simulate`
// prints the same three figures before its end-to-end run.
import { importTs } from "../sim/bundle.mjs";
import { scheduleOnly } from "../sim/schedule.mjs";

export const title = "Surge: peak/mean report minute at 1k, 10k and 100k machines (slot function only)";
export const platform = false;

export async function run({ root, log }) {
	const slots = await importTs(root, "src/devices/slots/domain.ts");
	const fleetShape = await importTs(root, "src/devices/slots/fleet-shape.ts");
	const window = { startMinute: 0, durationMinutes: 120 };
	const night = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
	const sizes = { "1k": 1_000, "10k": 10_000, "100k": 100_000 };
	const details = {};
	const figures = {};
	for (const [name, n] of Object.entries(sizes)) {
		const { histogram: _h, per_zone: _z, ...s } = scheduleOnly({ n, slots, fleetShape, window, night });
		details[name] = s;
		figures[`surge_peak_mean_${name}`] = s.with_slots.ratio;
		log(
			`${name}: peak ${s.with_slots.peak}/min, mean ${s.with_slots.mean}/min → ${s.with_slots.ratio} with slots, ${s.without_slots.ratio} without   goal <= 1.3`,
		);
	}
	return { figures, night, ...details };
}
