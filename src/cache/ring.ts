/**
 * A consistent-hash ring (pure): each shard owns `VIRTUAL_NODES` points on a 32-bit circle and a key
 * belongs to the first point at or after its own hash. Adding a shard takes over only the arcs its
 * new points land on, so about 1/n of the keys move, all of them to the new shard.
 */

export type HashRing = { readonly points: Uint32Array; readonly owners: Uint16Array; readonly shards: number };

export const VIRTUAL_NODES = 160;

/** Rings are pure data, derived from the shard count alone: one per count per isolate. */
const rings = new Map<number, HashRing>();
const ENCODER = new TextEncoder();

export function buildRing(shards: number, virtualNodes = VIRTUAL_NODES): HashRing {
	if (!Number.isInteger(shards) || shards < 1) throw new Error(`a ring needs at least one shard, got ${shards}`);
	const nodes: { point: number; owner: number }[] = [];
	for (let shard = 0; shard < shards; shard++) {
		for (let v = 0; v < virtualNodes; v++) nodes.push({ point: hash32(`shard-${shard}#${v}`), owner: shard });
	}
	// Ties (vanishingly rare) are broken by shard so every isolate builds the same ring.
	nodes.sort((a, b) => a.point - b.point || a.owner - b.owner);
	return {
		points: Uint32Array.from(nodes, (n) => n.point),
		owners: Uint16Array.from(nodes, (n) => n.owner),
		shards,
	};
}

export function ringFor(shards: number): HashRing {
	let ring = rings.get(shards);
	if (!ring) {
		ring = buildRing(shards);
		rings.set(shards, ring);
	}
	return ring;
}

/** The shard (0 … shards-1) that owns `key`. */
export function shardOf(ring: HashRing, key: string): number {
	const h = hash32(key);
	const { points, owners } = ring;
	let lo = 0;
	let hi = points.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if ((points[mid] ?? 0) < h) lo = mid + 1;
		else hi = mid;
	}
	return owners[lo === points.length ? 0 : lo] ?? 0;
}

/** FNV-1a over the UTF-8 bytes, then murmur3's finalizer so that similar strings spread evenly. */
export function hash32(text: string): number {
	let h = 0x811c9dc5;
	for (const byte of ENCODER.encode(text)) {
		h ^= byte;
		h = Math.imul(h, 0x01000193);
	}
	h ^= h >>> 16;
	h = Math.imul(h, 0x85ebca6b);
	h ^= h >>> 13;
	h = Math.imul(h, 0xc2b2ae35);
	h ^= h >>> 16;
	return h >>> 0;
}
