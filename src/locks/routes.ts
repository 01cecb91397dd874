import { Hono } from "hono";
import { z } from "zod";
import type {
	AcquireResult,
	GuardedValue,
	GuardedWriteResult,
	LockView,
	ReleaseResult,
	RenewResult,
} from "../../durable-objects/locks-distributed-lock";
import type { AppEnv } from "../platform/app-env";
import { LOCK_LIMITS, LOCK_MODES, LOCK_NAME_PATTERN } from "./domain";
import { AppError } from "../platform/errors";
import { callLock, leaseError, leaseJson, lockHeldError, lockStub } from "./service";
import { validate } from "../platform/validation";
import { lockDocs } from "./openapi";

const NAME = z.string().regex(LOCK_NAME_PATTERN, "1-128 of letters, digits, '.', '_', ':', '-'");
const OWNER = z.string().min(1).max(LOCK_LIMITS.maxOwnerLength);
const TOKEN = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const TTL_MS = z.number().int().min(LOCK_LIMITS.minTtlMs).max(LOCK_LIMITS.maxTtlMs);

const nameParams = z.object({ name: NAME });
const guardedParams = z.object({ name: NAME, key: NAME });
const acquireBody = z
	.object({
		owner: OWNER,
		ttl_ms: TTL_MS,
		wait_ms: z.number().int().min(0).max(LOCK_LIMITS.maxWaitMs).default(0),
		mode: z.enum(LOCK_MODES).default("exclusive"),
	})
	.strict();
const renewBody = z.object({ owner: OWNER, token: TOKEN, ttl_ms: TTL_MS }).strict();
const releaseBody = z.object({ owner: OWNER, token: TOKEN }).strict();
const guardedBody = z.object({ value: z.json() }).strict();
const fencingHeaders = z.object({
	"fencing-token": z
		.string()
		.regex(/^[1-9][0-9]{0,14}$/, "a fencing token from this lock (a positive integer)")
		.transform(Number),
});

/** Distributed locks: leases with fencing tokens, and a value store guarded by those tokens. */
export const lockRoutes = new Hono<AppEnv>()
	.post("/:name/acquire", lockDocs.acquire, validate("param", nameParams), validate("json", acquireBody), async (c) => {
		const { name } = c.req.valid("param");
		const body = c.req.valid("json");
		const lock = lockStub(c.env, c.get("principal").tenantId, name);
		const request = { owner: body.owner, mode: body.mode, ttlMs: body.ttl_ms, waitMs: body.wait_ms };
		const result = await callLock<AcquireResult>(lock.acquire(request), "lock acquire", body.wait_ms);
		if (!result.ok) throw lockHeldError(name, result);
		return c.json({ ...leaseJson(name, result.lease), waited_ms: result.waitedMs });
	})
	.post("/:name/renew", lockDocs.renew, validate("param", nameParams), validate("json", renewBody), async (c) => {
		const { name } = c.req.valid("param");
		const { owner, token, ttl_ms } = c.req.valid("json");
		const lock = lockStub(c.env, c.get("principal").tenantId, name);
		const result = await callLock<RenewResult>(lock.renew({ owner, token, ttlMs: ttl_ms }), "lock renew");
		if (!result.ok) throw leaseError(name, result.code);
		return c.json(leaseJson(name, result.lease));
	})
	.post("/:name/release", lockDocs.release, validate("param", nameParams), validate("json", releaseBody), async (c) => {
		const { name } = c.req.valid("param");
		const lock = lockStub(c.env, c.get("principal").tenantId, name);
		const result = await callLock<ReleaseResult>(lock.release(c.req.valid("json")), "lock release");
		if (!result.ok) throw leaseError(name, result.code);
		return c.json({ name, released: result.released, released_at: result.releasedAt });
	})
	.get("/:name", lockDocs.inspect, validate("param", nameParams), async (c) => {
		const { name } = c.req.valid("param");
		const view = await callLock<LockView>(lockStub(c.env, c.get("principal").tenantId, name).inspect(), "lock inspect");
		return c.json({
			name,
			mode: view.mode,
			holders: view.holders.map((lease) => leaseJson(name, lease)),
			expires_at: view.freeAt,
			waiting: view.waiting,
			last_token: view.lastToken,
		});
	})
	.put(
		"/:name/guarded/:key",
		lockDocs.writeGuarded,
		validate("param", guardedParams),
		validate("header", fencingHeaders),
		validate("json", guardedBody),
		async (c) => {
			const { name, key } = c.req.valid("param");
			const token = c.req.valid("header")["fencing-token"];
			const lock = lockStub(c.env, c.get("principal").tenantId, name);
			const value = JSON.stringify(c.req.valid("json").value);
			const result = await callLock<GuardedWriteResult>(lock.writeGuarded(key, token, value), "guarded write");
			if (result.ok) return c.json({ name, key, token: result.token });
			if (result.code === "fenced") {
				throw new AppError(409, "fenced", `A later token (${result.highest}) has written '${key}'; yours is stale.`, {
					highest_token: result.highest,
				});
			}
			throw new AppError(409, "unknown_token", `Lock '${name}' never issued token ${token}.`, {
				last_token: result.lastToken,
			});
		},
	)
	.get("/:name/guarded/:key", lockDocs.readGuarded, validate("param", guardedParams), async (c) => {
		const { name, key } = c.req.valid("param");
		const lock = lockStub(c.env, c.get("principal").tenantId, name);
		const stored = await callLock<GuardedValue | null>(lock.readGuarded(key), "guarded read");
		if (!stored) throw new AppError(404, "unknown_key", `Nothing has been written to '${key}' under lock '${name}'.`);
		return c.json({ name, key, value: z.json().parse(JSON.parse(stored.value)), token: stored.token });
	});
