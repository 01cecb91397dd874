import { DurableObject } from "cloudflare:workers";
import type { BeginDecision, Fingerprint, IdempotencyRecord, StoredResponse } from "../src/gateway/idempotency/domain";
import { decideBegin, decideComplete, holdsLock } from "../src/gateway/idempotency/domain";
import {
	countRecords,
	createShardTables,
	deleteExpired,
	deleteRecord,
	nextExpiry,
	readRecord,
	writeRecord,
} from "../src/gateway/idempotency/shard-db";

/** Expired records deleted per alarm run; a full batch schedules the next run right away. */
export const PURGE_BATCH = 500;

/**
 * One shard of one tenant's idempotency keys (addressed `<tenant>:<index>`, see
 * src/gateway/idempotency/shards.ts): a row per key, so a million keys are a few SQLite databases
 * rather than a million. Every request with a key passes through here one call at a time (the
 * methods are synchronous over SQLite), so exactly one of any number of concurrent requests
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

	/** Acquires `scope` for `fingerprint`, or says why not (replay, in progress, mismatch). */
	begin(scope: string, fingerprint: Fingerprint, lockMs: number, retentionMs: number): BeginDecision {
		const timing = { now: Date.now(), lockMs, retentionMs };
		const record = readRecord(this.ctx.storage.sql, scope);
		const { decision, next } = decideBegin(record, fingerprint, crypto.randomUUID(), timing);
		if (next !== undefined) this.#store(scope, next);
		return decision;
	}

	/** Stores the response of the lock holder `token`; false when the lock was lost. */
	complete(scope: string, token: string, response: StoredResponse, retentionMs: number): boolean {
		const record = readRecord(this.ctx.storage.sql, scope);
		const { stored, next } = decideComplete(record, token, response, { now: Date.now(), retentionMs });
		if (stored) this.#store(scope, next);
		return stored;
	}

	/** Forgets `scope` if `token` still holds it, so a retry runs the operation again. */
	release(scope: string, token: string): boolean {
		if (!holdsLock(readRecord(this.ctx.storage.sql, scope), token)) return false;
		this.#store(scope, null);
		return true;
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

	#store(scope: string, record: IdempotencyRecord | null): void {
		const sql = this.ctx.storage.sql;
		if (record === null) {
			deleteRecord(sql, scope);
			return;
		}
		this.ctx.storage.transactionSync(() => writeRecord(sql, scope, record));
		// One alarm per shard at the earliest expiry it knows; it reschedules itself for the rest.
		if (this.#alarmAt === 0 || record.expiresAt < this.#alarmAt) {
			this.#alarmAt = record.expiresAt;
			void this.ctx.storage.setAlarm(record.expiresAt);
		}
	}
}
