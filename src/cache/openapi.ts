import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";
import { EVICTION_POLICIES } from "./domain";

/** The cache's answers as schemas and its routes' OpenAPI descriptions. */

const ttlRemaining = z.number().int().describe("Whole seconds until the entry expires (rounded up).");
const hitSchema = z
	.object({
		key: z.string(),
		value: z.unknown(),
		hit: z.boolean().describe("false only for a value the loader just fetched (read-through)."),
		loaded: z.boolean().optional().describe("true when the value was fetched from `loader` on this request."),
		ttl_remaining: ttlRemaining,
		source: z
			.enum(["l1", "shard", "loader"])
			.describe("Where the value came from (l1: this isolate's memory, read from the shard at most 2 s ago)."),
	})
	.meta({ id: "CacheValue" });
const batchItem = z.object({
	key: z.string(),
	hit: z.boolean(),
	value: z.unknown().optional(),
	ttl_remaining: ttlRemaining.optional(),
});
const settingsSchema = z.object({
	namespace: z.string(),
	max_bytes: z.number().int().nullable().describe("The namespace's cap (null: 10 MB per shard)."),
	shard_max_bytes: z.number().int().describe("Each shard's share of max_bytes."),
	eviction: z.enum(EVICTION_POLICIES),
	l1: z.boolean(),
	shards: z.number().int(),
	evicted: z.number().int().describe("Entries evicted at once to fit a smaller cap."),
});
const statsSchema = z.object({
	namespace: z.string(),
	shards: z.number().int(),
	total_keys: z.number().int(),
	memory_used: z.number().int().describe("Bytes of keys, values and tags held by live entries."),
	hit_rate: z
		.number()
		.describe(
			"hits / (hits + misses), 0 before the first lookup; L1 hits included (each isolate sends them within about 1 s).",
		),
	hits: z.number().int(),
	misses: z.number().int(),
	evictions: z.number().int(),
	write_behind: z
		.object({ pending: z.number().int(), failed: z.number().int() })
		.describe("Write-behind origin writes not yet delivered, and those refused for good or out of attempts (kept)."),
});

const cache = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Cache"], access: "tenant", ...doc }));

export const cacheDocs = {
	put: cache({
		summary: "Store a JSON value for ttl seconds (with optional tags; write-through or write-behind to an origin)",
		ok: {
			200: z.object({
				key: z.string(),
				ttl: z.number().int(),
				expires_at: z.number().int(),
				evicted: z.number().int(),
			}),
		},
		errors: [413, 503],
	}),
	get: cache({
		summary: "Read a value (cache-aside), or load it from `loader` on a miss (read-through)",
		description:
			"A miss without a loader is 404 `cache_miss` (details: `{hit: false}`). With `loader`, the shard fetches the URL " +
			"once however many requests miss together, and may refresh a hot entry early (XFetch). " +
			"Hot keys (read twice within 10 s in an isolate) are answered from that isolate's L1 unless the namespace " +
			"has `l1: false` or the request says `?l1=0`: a value changed, deleted or invalidated through another " +
			"isolate may be served for at most 2 s (the L1 TTL); through the same isolate the change is seen at once.",
		ok: { 200: hitSchema },
		errors: [404, 413, 422, 503],
	}),
	delete: cache({
		summary: "Delete a key",
		ok: { 200: z.object({ key: z.string(), deleted: z.boolean() }) },
		errors: [503],
	}),
	batchGet: cache({
		summary: "Read up to 100 keys at once",
		ok: { 200: z.object({ results: z.array(batchItem) }) },
		errors: [503],
	}),
	invalidate: cache({
		summary: "Delete every key with a prefix, or carrying one or more of some tags, on every shard",
		ok: { 200: z.object({ invalidated: z.number().int() }) },
		errors: [503],
	}),
	stats: cache({ summary: "A namespace's figures summed over its shards", ok: { 200: statsSchema }, errors: [503] }),
	settings: cache({
		summary: "Set a namespace's size cap, eviction policy and L1 (on by default; at most 2 s stale across isolates)",
		ok: { 200: settingsSchema },
		errors: [503],
	}),
};
