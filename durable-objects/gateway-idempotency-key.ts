import { DurableObject } from "cloudflare:workers";
import type { BeginDecision, Fingerprint, IdempotencyRecord, StoredResponse } from "../src/gateway/idempotency/domain";
import { decideBegin, decideComplete, holdsLock, idempotencyRecordSchema } from "../src/gateway/idempotency/domain";
import { log } from "../src/platform/log";

const SCHEMA = "CREATE TABLE IF NOT EXISTS record (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)";

/**
 * Legacy (before IdempotencyShard): kept bound so keys created before the cut-over are read
 * through until IDEMPOTENCY_LEGACY_UNTIL (see docs/idempotency-and-payments.md); no new key is
 * created here. The record of one idempotency key of one tenant (addressed by name `<tenant>:<key>`): every
 * request with the key passes through here one at a time, so exactly one of any number of
 * concurrent requests acquires it. The decisions are in src/gateway/idempotency/domain.ts.
 */
export class IdempotencyKey extends DurableObject<Env> {
	#record: IdempotencyRecord | null = null;
	/** False until the first write and once the alarm has wiped storage (deleteAll drops the table too). */
	#hasTable = false;
	/** When the pending alarm fires (0: none); kept in memory so the hot path never reads it. */
	#alarmAt = 0;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			// Read-through from the shards (src/gateway/idempotency/store.ts) asks objects that were
			// never written: creating no table keeps such a look-up from leaving storage behind.
			this.#hasTable =
				ctx.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'record'").toArray()
					.length > 0;
			const row = this.#hasTable
				? ctx.storage.sql.exec<{ body: string }>("SELECT body FROM record WHERE id = 1").toArray()[0]
				: undefined;
			const stored = row ? idempotencyRecordSchema.safeParse(JSON.parse(row.body)) : null;
			// Written only by #store; a record that no longer parses is forgotten (the key can be used afresh).
			if (stored && !stored.success)
				log.error("idempotency record unreadable; forgotten", { key: ctx.id.name ?? null });
			this.#record = stored?.success ? stored.data : null;
			this.#alarmAt = (await ctx.storage.getAlarm()) ?? 0;
		});
	}

	/** Acquires the key for `fingerprint`, or says why not (replay, in progress, mismatch). */
	begin(fingerprint: Fingerprint, lockMs: number, retentionMs: number): BeginDecision {
		const timing = { now: Date.now(), lockMs, retentionMs };
		const { decision, next } = decideBegin(this.#record, fingerprint, crypto.randomUUID(), timing);
		if (next !== undefined) this.#store(next);
		return decision;
	}

	/** Stores the response of the lock holder `token`; false when the lock was lost (taken over or expired and reused). */
	complete(token: string, response: StoredResponse, retentionMs: number): boolean {
		const { stored, next } = decideComplete(this.#record, token, response, { now: Date.now(), retentionMs });
		if (stored) this.#store(next);
		return stored;
	}

	/** Forgets the key if `token` still holds it, so a retry runs the operation again. */
	release(token: string): boolean {
		if (!holdsLock(this.#record, token)) return false;
		this.#store(null);
		return true;
	}

	/** The stored record (for operators and tests). */
	inspect(): IdempotencyRecord | null {
		return this.#record;
	}

	override async alarm(): Promise<void> {
		const record = this.#record;
		if (record !== null && record.expiresAt > Date.now()) {
			this.#alarmAt = record.expiresAt;
			await this.ctx.storage.setAlarm(record.expiresAt);
			return;
		}
		this.#record = null;
		this.#alarmAt = 0;
		// Expired keys leave nothing behind: the object's storage is freed entirely.
		await this.ctx.storage.deleteAll();
		this.#hasTable = false;
	}

	#store(record: IdempotencyRecord | null): void {
		this.#record = record;
		if (record === null) {
			if (this.#hasTable) this.ctx.storage.sql.exec("DELETE FROM record");
			return; // a pending alarm finds no record and frees the storage
		}
		if (!this.#hasTable) {
			this.ctx.storage.sql.exec(SCHEMA);
			this.#hasTable = true;
		}
		this.ctx.storage.sql.exec(
			"INSERT INTO record (id, body) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body",
			JSON.stringify(record),
		);
		// Retention is enforced by the alarm. Setting it is a storage write, so it is set once per key
		// (at begin) and only moved earlier; an alarm that fires before a later expiry reschedules itself.
		if (this.#alarmAt === 0 || record.expiresAt < this.#alarmAt) {
			this.#alarmAt = record.expiresAt;
			void this.ctx.storage.setAlarm(record.expiresAt);
		}
	}
}
