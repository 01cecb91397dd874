import type { Context } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import type { PutResult, ShardFigures } from "../../durable-objects/cache-shard";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import {
	CACHE_LIMITS,
	EVICTION_POLICIES,
	NAMESPACE_PATTERN,
	TAG_PATTERN,
	shardCapBytes,
	sumStats,
	utf8Bytes,
	utf8LengthWithin,
} from "./domain";
import { dropL1Namespace } from "./l1";
import { lookupMany } from "./batch-lookup";
import type { Defer } from "./l1-reads";
import { answerJson, flushNamespaceHits, flushShardHits, forgetLocally, lookup } from "./lookup";
import { originWriteId, prepareOriginWrite } from "./write-strategies";
import { cacheDocs } from "./openapi";
import type { CacheScope } from "./service";
import { callShard, fanOut, shardCount, shardForKey } from "./service";

const NAMESPACE = z.string().regex(NAMESPACE_PATTERN, "1-64 of a-z, 0-9, '_', '-'");
const KEY = z.string().refine((key) => utf8LengthWithin(key, CACHE_LIMITS.maxKeyBytes), "1-512 bytes (UTF-8)");
// GET /:namespace/stats answers the namespace's figures, so "stats" cannot also be a key.
const ENTRY_KEY = KEY.refine((key) => key !== "stats", "'stats' is reserved");
const TAG = z.string().regex(TAG_PATTERN, "1-64 of letters, digits, '_', '.', ':', '-'");
const TTL = z.number().int().min(CACHE_LIMITS.minTtlSeconds).max(CACHE_LIMITS.maxTtlSeconds);

const namespaceParams = z.object({ namespace: NAMESPACE });
const keyParams = z.object({ namespace: NAMESPACE, key: ENTRY_KEY });
const putBody = z
	.object({
		value: z.json(),
		ttl: TTL,
		tags: z.array(TAG).max(CACHE_LIMITS.maxTags).default([]),
		write: z
			.object({ mode: z.enum(["through", "behind"]), url: z.url().max(2048) })
			.strict()
			.optional()
			.describe(
				"through: PUT to the origin first, cache only on its 2xx; behind: cache now, deliver to the origin after.",
			),
	})
	.strict();
const getQuery = z.object({
	l1: z
		.enum(["0", "1"])
		.optional()
		.describe(
			"Absent: L1 as the namespace's `l1` setting says (on by default; hot keys, at most 2 s stale). " +
				"1: serve from and keep in this isolate's L1 whatever the setting. 0: ask the shard (fresh).",
		),
	loader: z.url().optional().describe("Read-through: an https URL whose JSON answer is cached on a miss."),
	ttl: z
		.string()
		.regex(/^[0-9]{1,7}$/, "whole seconds")
		.transform(Number)
		.pipe(TTL)
		.optional()
		.describe("Seconds to keep a loaded value (default 300)."),
});
const batchBody = z.object({ keys: z.array(KEY).min(1).max(CACHE_LIMITS.maxBatchKeys) }).strict();
const invalidateBody = z.union([
	z.object({ prefix: KEY }).strict(),
	z.object({ tags: z.array(TAG).min(1).max(CACHE_LIMITS.maxTags) }).strict(),
]);
const settingsBody = z
	.object({
		max_bytes: z
			.number()
			.int()
			.min(CACHE_LIMITS.minNamespaceBytes)
			.max(CACHE_LIMITS.maxNamespaceBytes)
			.nullable()
			.default(null),
		eviction: z.enum(EVICTION_POLICIES),
		l1: z
			.boolean()
			.default(true)
			.describe(
				"Serve hot keys from each isolate's L1 (at most 2 s stale across isolates); false: always ask the shard.",
			),
	})
	.strict();

/** The cache service: cache-aside and read-through over sharded Durable Objects (docs/cache.md). */
export const cacheRoutes = new Hono<AppEnv>()
	.put(
		"/:namespace",
		cacheDocs.settings,
		validate("param", namespaceParams),
		validate("json", settingsBody),
		async (c) => {
			const scope = scopeOf(c.env, c.get("principal").tenantId, c.req.valid("param").namespace);
			const { max_bytes, eviction, l1 } = c.req.valid("json");
			const shards = shardCount(c.env);
			const shardMax = shardCapBytes(max_bytes, shards);
			const settings = { maxBytes: max_bytes === null ? null : shardMax, eviction, l1 };
			// Dropped however the fan-out ends: some shards may have changed before one failed.
			const evicted = await fanOut(scope, "cache settings", (shard) => shard.configure(settings)).finally(() =>
				dropL1Namespace(scope),
			);
			const total = evicted.reduce((sum, n) => sum + n, 0);
			return c.json({
				namespace: scope.namespace,
				max_bytes,
				shard_max_bytes: shardMax,
				eviction,
				l1,
				shards,
				evicted: total,
			});
		},
	)
	.get("/:namespace/stats", cacheDocs.stats, validate("param", namespaceParams), async (c) => {
		const scope = scopeOf(c.env, c.get("principal").tenantId, c.req.valid("param").namespace);
		// This isolate's L1 hits first, so its own reads are in the figures it answers.
		await flushNamespaceHits(scope);
		const figures = await fanOut<ShardFigures>(scope, "cache stats", (shard) => shard.stats());
		const write_behind = {
			pending: figures.reduce((n, f) => n + f.writeBehindPending, 0),
			failed: figures.reduce((n, f) => n + f.writeBehindFailed, 0),
		};
		return c.json({ namespace: scope.namespace, shards: figures.length, ...sumStats(figures), write_behind });
	})
	.post(
		"/:namespace/batch/get",
		cacheDocs.batchGet,
		validate("param", namespaceParams),
		validate("json", batchBody),
		async (c) => {
			const scope = scopeOf(c.env, c.get("principal").tenantId, c.req.valid("param").namespace);
			const body = await lookupMany(scope, c.req.valid("json").keys, deferOf(c));
			return c.body(body, 200, { "Content-Type": "application/json" });
		},
	)
	.post(
		"/:namespace/invalidate",
		cacheDocs.invalidate,
		validate("param", namespaceParams),
		validate("json", invalidateBody),
		async (c) => {
			const scope = scopeOf(c.env, c.get("principal").tenantId, c.req.valid("param").namespace);
			const body = c.req.valid("json");
			const counts = await fanOut(scope, "cache invalidate", (shard) =>
				"prefix" in body ? shard.invalidatePrefix(body.prefix) : shard.invalidateTags(body.tags),
			).finally(() => dropL1Namespace(scope));
			return c.json({ invalidated: counts.reduce((sum, n) => sum + n, 0) });
		},
	)
	.put("/:namespace/:key", cacheDocs.put, validate("param", keyParams), validate("json", putBody), async (c) => {
		const { namespace, key } = c.req.valid("param");
		const scope = scopeOf(c.env, c.get("principal").tenantId, namespace);
		const { value, ttl, tags, write } = c.req.valid("json");
		const text = JSON.stringify(value);
		const bytes = utf8Bytes(text);
		if (bytes > CACHE_LIMITS.maxValueBytes)
			throw tooLarge(`The value is ${bytes} bytes of JSON`, CACHE_LIMITS.maxValueBytes);
		const writeId = write ? await originWriteId(c.req.header("Idempotency-Key"), scope, key, text) : null;
		if (write && writeId) await prepareOriginWrite(scope, key, text, write, writeId);
		const request = {
			key,
			value: text,
			ttlSeconds: ttl,
			tags,
			...(write?.mode === "behind" && writeId ? { writeBehind: { url: write.url, writeId } } : {}),
		};
		await flushShardHits(scope, key);
		const result = await callShard<PutResult>(shardForKey(scope, key).put(request), "cache put").catch(
			(error: unknown) => {
				// Unanswered: the write (and its evictions) may have landed all the same.
				forgetLocally(scope, key, 1);
				throw error;
			},
		);
		forgetLocally(scope, key, result.ok ? result.evicted : 0);
		if (!result.ok)
			throw tooLarge(`The entry is ${result.bytes} bytes, over this namespace's shard cap`, result.capBytes);
		return c.json({ key, ttl, expires_at: result.expiresAt, evicted: result.evicted });
	})
	.get("/:namespace/:key", cacheDocs.get, validate("param", keyParams), validate("query", getQuery), async (c) => {
		const { namespace, key } = c.req.valid("param");
		const query = c.req.valid("query");
		const scope = scopeOf(c.env, c.get("principal").tenantId, namespace);
		const loader = query.loader
			? { url: query.loader, ttlSeconds: query.ttl ?? CACHE_LIMITS.defaultLoaderTtlSeconds }
			: null;
		const answer = await lookup(scope, key, query.l1, loader, deferOf(c));
		return c.body(answerJson(answer), 200, { "Content-Type": "application/json" });
	})
	.delete("/:namespace/:key", cacheDocs.delete, validate("param", keyParams), async (c) => {
		const { namespace, key } = c.req.valid("param");
		const scope = scopeOf(c.env, c.get("principal").tenantId, namespace);
		const deleted = await callShard<boolean>(shardForKey(scope, key).delete(key), "cache delete").finally(() =>
			forgetLocally(scope, key),
		);
		return c.json({ key, deleted });
	});

/** Background work kept alive after the response (ctx.waitUntil). */
function deferOf(c: Context<AppEnv>): Defer {
	return (work) => {
		// Hono's executionCtx throws without one (app.request in tests): the work then runs detached.
		try {
			c.executionCtx.waitUntil(work);
		} catch {
			void work;
		}
	};
}

function scopeOf(env: Env, tenantId: string, namespace: string): CacheScope {
	return { env, tenantId, namespace };
}

function tooLarge(what: string, limit: number): AppError {
	return new AppError(413, "value_too_large", `${what}; the limit is ${limit} bytes.`, { limit_bytes: limit });
}
