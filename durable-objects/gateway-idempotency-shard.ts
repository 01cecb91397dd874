import { DurableObject } from "cloudflare:workers";
import type { BeginDecision, Fingerprint, IdempotencyRecord, StoredResponse } from "../src/gateway/idempotency/domain";
import type { ShardOp, ShardOpResult } from "../src/gateway/idempotency/shard-batch";
import { ANSWER_BODY_CHARS, ANSWER_FULL, replayChars } from "../src/gateway/idempotency/shard-batch";
import { decideBegin } from "../src/gateway/idempotency/domain";
import {
	CHUNK_CHARS,
	completeIfHeld,
	countRecords,
	createShardTables,
	deleteExpired,
	deleteRecord,
	insertIfAbsent,
	nextExpiry,
	readRecord,
	releaseIfHeld,
	writeRecord,
} from "../src/gateway/idempotency/shard-db";

/** Expired records deleted per alarm run; a full batch schedules the next run right away. */
export const PURGE_BATCH = 500;

/**
 * One shard of one tenant's idempotency keys (addressed `<tenant>:<index>`, see
 * src/gateway/idempotency/shards.ts): a row per key, so a million keys are a few SQLite databases
 * rather than a million. Every request with a key passes through here one call at a time (the
 * methods are synchronous over SQLite), so exactly one of however many concurrent requests
 * acquires it. Decisions are the same pure functions the one-key-per-object IdempotencyKey used.
 */
export class IdempotencyShard extends DurableObject<Env> {
	/** When the pending alarm fires (0: none); kept in memory so the hot path never reads it. */
	#alarmAt = 0;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			createShardTables(ctx.storage.sql);
			this.#alarmAt = (await ctx.storage.getAlarm()) ?? 0;
		});
	}

	/**
	 * Acquires `scope` for `fingerprint`, or says why not (replay, in progress, mismatch). A fresh
	 * key is one INSERT; only a key that has a row is read and decided.
	 */
	begin(scope: string, fingerprint: Fingerprint, lockMs: number, retentionMs: number): BeginDecision {
		const sql = this.ctx.storage.sql;
		const timing = { now: Date.now(), lockMs, retentionMs };
		const token = crypto.randomUUID();
		const fresh = decideBegin(null, fingerprint, token, timing);
		if (fresh.next && insertIfAbsent(sql, scope, fresh.next)) {
			this.#expiresAt(fresh.next.expiresAt);
			return fresh.decision;
		}
		const { decision, next } = decideBegin(readRecord(sql, scope), fingerprint, token, timing);
		if (next !== undefined) this.#store(scope, next);
		return decision;
	}

	/** Stores the response of the lock holder `token` (one UPDATE); false when the lock was lost. */
	complete(scope: string, token: string, response: StoredResponse, retentionMs: number): boolean {
		const sql = this.ctx.storage.sql;
		const now = Date.now();
		// One UPDATE (atomic alone); a large body adds chunk rows, kept with it in one transaction.
		const write = () => completeIfHeld(sql, scope, token, response, now, now + retentionMs);
		const stored = response.body.length > CHUNK_CHARS ? this.ctx.storage.transactionSync(write) : write();
		if (stored) this.#expiresAt(now + retentionMs);
		return stored;
	}

	/**
	 * A batch of begin/complete/release calls (src/gateway/idempotency/shard-batch.ts), applied in
	 * order in one synchronous run, so their writes commit together before the answer leaves. One
	 * op failing (a bug) fails only its own result. Replayed bodies past ANSWER_BODY_CHARS are
	 * answered ANSWER_FULL (their callers ask again alone).
	 */
	many(ops: readonly ShardOp[]): ShardOpResult[] {
		let room = ANSWER_BODY_CHARS;
		return ops.map((op): ShardOpResult => {
			try {
				const result: ShardOpResult = { ok: true, value: this.#apply(op) };
				const chars = replayChars(result);
				if (chars > room && ops.length > 1) return { ok: false, error: ANSWER_FULL };
				room -= chars;
				return result;
			} catch (error) {
				return { ok: false, error: error instanceof Error ? error.message : String(error) };
			}
		});
	}

	/** Forgets `scope` if `token` still holds it, so a retry runs the operation again. */
	release(scope: string, token: string): boolean {
		return releaseIfHeld(this.ctx.storage.sql, scope, token);
	}

	/** The stored record of `scope`, null when absent or expired (growth look-ups, operators, tests). */
	inspect(scope: string): IdempotencyRecord | null {
		const record = readRecord(this.ctx.storage.sql, scope);
		return record !== null && record.expiresAt > Date.now() ? record : null;
	}

	/** How many records the shard holds, expired or not (operators, tests). */
	size(): number {
		return countRecords(this.ctx.storage.sql);
	}

	/** Retention: deletes expired records in bounded batches and schedules the next run. */
	override async alarm(): Promise<void> {
		const now = Date.now();
		const sql = this.ctx.storage.sql;
		const removed = this.ctx.storage.transactionSync(() => deleteExpired(sql, now, PURGE_BATCH));
		const next = removed === PURGE_BATCH ? now : nextExpiry(sql);
		this.#alarmAt = next ?? 0;
		if (next !== null) await this.ctx.storage.setAlarm(next);
	}

	#apply(op: ShardOp): BeginDecision | boolean {
		switch (op.kind) {
			case "begin":
				return this.begin(op.scope, op.fingerprint, op.lockMs, op.retentionMs);
			case "complete":
				return this.complete(op.scope, op.token, op.response, op.retentionMs);
			case "release":
				return this.release(op.scope, op.token);
		}
	}

	#store(scope: string, record: IdempotencyRecord | null): void {
		const sql = this.ctx.storage.sql;
		if (record === null) {
			deleteRecord(sql, scope);
			return;
		}
		this.ctx.storage.transactionSync(() => writeRecord(sql, scope, record));
		this.#expiresAt(record.expiresAt);
	}

	/** One alarm per shard at the earliest expiry it knows (set only when that moves earlier); it reschedules itself for the rest. */
	#expiresAt(at: number): void {
		if (this.#alarmAt !== 0 && at >= this.#alarmAt) return;
		this.#alarmAt = at;
		void this.ctx.storage.setAlarm(at);
	}
}
