// The simulated fleet: vending machines in 16 IANA time zones, weighted roughly like real
// vending-machine populations (Japan and the US dominate; Europe next; then China, Korea, Brazil,
// Australia, India, Mexico), each in a real city, each with a few product slots.
// Everything is derived from the machine's index with a seeded PRNG, so runs are reproducible.

/** [timezone, weight %, cities [name, lat, lng]] */
export const ZONES = [
	[
		"Asia/Tokyo",
		18,
		[
			["tokyo", 35.68, 139.69],
			["osaka", 34.69, 135.5],
			["nagoya", 35.18, 136.91],
		],
	],
	[
		"America/New_York",
		14,
		[
			["new-york", 40.71, -74.0],
			["boston", 42.36, -71.06],
			["atlanta", 33.75, -84.39],
		],
	],
	[
		"America/Chicago",
		9,
		[
			["chicago", 41.88, -87.63],
			["dallas", 32.78, -96.8],
			["houston", 29.76, -95.37],
		],
	],
	[
		"America/Los_Angeles",
		8,
		[
			["los-angeles", 34.05, -118.24],
			["san-francisco", 37.77, -122.42],
			["seattle", 47.61, -122.33],
		],
	],
	[
		"America/Denver",
		3,
		[
			["denver", 39.74, -104.99],
			["salt-lake-city", 40.76, -111.89],
		],
	],
	[
		"Europe/Berlin",
		8,
		[
			["berlin", 52.52, 13.4],
			["munich", 48.14, 11.58],
			["hamburg", 53.55, 9.99],
		],
	],
	[
		"Europe/London",
		6,
		[
			["london", 51.51, -0.13],
			["manchester", 53.48, -2.24],
		],
	],
	[
		"Europe/Paris",
		5,
		[
			["paris", 48.86, 2.35],
			["lyon", 45.76, 4.84],
		],
	],
	[
		"Europe/Madrid",
		3,
		[
			["madrid", 40.42, -3.7],
			["barcelona", 41.39, 2.17],
		],
	],
	[
		"Asia/Shanghai",
		7,
		[
			["shanghai", 31.23, 121.47],
			["beijing", 39.9, 116.41],
			["shenzhen", 22.54, 114.06],
		],
	],
	[
		"Asia/Seoul",
		5,
		[
			["seoul", 37.57, 126.98],
			["busan", 35.18, 129.08],
		],
	],
	[
		"America/Sao_Paulo",
		4,
		[
			["sao-paulo", -23.55, -46.63],
			["rio-de-janeiro", -22.91, -43.17],
		],
	],
	[
		"Australia/Sydney",
		3,
		[
			["sydney", -33.87, 151.21],
			["melbourne", -37.81, 144.96],
		],
	],
	[
		"Asia/Kolkata",
		3,
		[
			["mumbai", 19.08, 72.88],
			["bengaluru", 12.97, 77.59],
		],
	],
	[
		"America/Mexico_City",
		3,
		[
			["mexico-city", 19.43, -99.13],
			["guadalajara", 20.67, -103.35],
		],
	],
	["Asia/Singapore", 1, [["singapore", 1.35, 103.82]]],
];

const SKUS = [
	["cola-330", 10],
	["water-500", 12],
	["green-tea-500", 10],
	["coffee-can-185", 12],
	["orange-juice-330", 8],
	["chips-salted-40", 15],
	["chocolate-bar-50", 20],
	["granola-bar-35", 20],
	["energy-drink-250", 8],
	["sparkling-water-330", 10],
];

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Splits `n` machines over the zones by weight (largest remainder, so the total is exact). */
function zoneCounts(n) {
	const total = ZONES.reduce((s, z) => s + z[1], 0);
	const exact = ZONES.map((z) => (n * z[1]) / total);
	const counts = exact.map(Math.floor);
	const order = exact.map((e, i) => [e - Math.floor(e), i]).sort((a, b) => b[0] - a[0]);
	for (let k = 0; counts.reduce((s, c) => s + c, 0) < n; k++) counts[order[k][1]] += 1;
	return counts;
}

/** The fleet's machines: `{device_id, kind, timezone, city, lat, lng}` (the bulk-registration shape). */
export function buildFleet(n, seed = 42) {
	const random = seededRandom(seed);
	const counts = zoneCounts(n);
	const machines = [];
	let index = 0;
	ZONES.forEach(([timezone, , cities], z) => {
		for (let i = 0; i < counts[z]; i++) {
			const [city, lat, lng] = cities[Math.floor(random() * cities.length)];
			machines.push({
				device_id: `vm-${String(index++).padStart(6, "0")}`,
				kind: "vending",
				timezone,
				city,
				lat: Math.round((lat + (random() - 0.5) * 0.2) * 1e4) / 1e4,
				lng: Math.round((lng + (random() - 0.5) * 0.2) * 1e4) / 1e4,
			});
		}
	});
	return machines;
}

/** A night's report for a machine: 4-8 slots of a day's sales, cash, a fridge temperature, rare errors. */
export function buildReport(machine, reportDate, seed) {
	const random = seededRandom(seed);
	const slotCount = 4 + Math.floor(random() * 5);
	const inventory = [];
	for (let s = 0; s < slotCount; s++) {
		const [sku, capacity] = SKUS[Math.floor(random() * SKUS.length)];
		inventory.push({
			slot: `${"ABCD"[Math.floor(s / 3)]}${(s % 3) + 1}`,
			sku,
			count: Math.floor(random() * (capacity + 1)),
			capacity,
		});
	}
	const errors = random() < 0.02 ? ["coin_jam"] : random() < 0.01 ? ["door_open"] : [];
	return {
		report_date: reportDate,
		inventory,
		cash_cents: Math.floor(random() * 40_000),
		temperature_c: Math.round((3 + random() * 4 + (random() < 0.01 ? 9 : 0)) * 10) / 10,
		error_codes: errors,
		firmware: random() < 0.8 ? "2.4.1" : "2.3.7",
	};
}
