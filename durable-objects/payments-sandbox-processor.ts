import { DurableObject } from "cloudflare:workers";

/** A charge as the sandbox processor recorded it. */
export type SandboxCharge = {
	id: string;
	idempotency_key: string;
	amount_cents: number;
	currency: string;
	card_token: string;
	description: string | null;
	status: "succeeded" | "declined";
	decline_code: string | null;
	/** How many requests with this key reached the processor (1 + retries). */
	attempts: number;
	created_at: string;
};

export type ChargeParams = { amount_cents: number; currency: string; card_token: string; description: string | null };

export type ChargeResult =
	| { kind: "created"; charge: SandboxCharge }
	| { kind: "replayed"; charge: SandboxCharge }
	| { kind: "mismatch"; charge: SandboxCharge };

type Row = Omit<SandboxCharge, "created_at"> & { created_at: number; params: string };

/**
 * The ledger of the built-in sandbox card processor, one object per tenant (`tenant:<id>`): every
 * charge it receives for that tenant, at most one per processor-side Idempotency-Key, with the
 * number of attempts.
 */
export class SandboxProcessor extends DurableObject<Env> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS charges (
				id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, amount_cents INTEGER NOT NULL, currency TEXT NOT NULL,
				card_token TEXT NOT NULL, description TEXT, status TEXT NOT NULL, decline_code TEXT, attempts INTEGER NOT NULL,
				params TEXT NOT NULL, created_at INTEGER NOT NULL)`);
		});
	}

	/** Creates the charge for `key`, or returns the one already created for it (same parameters only). */
	charge(key: string, params: ChargeParams): ChargeResult {
		const paramsText = JSON.stringify([params.amount_cents, params.currency, params.card_token, params.description]);
		const existing = this.#find(key);
		if (existing) {
			if (existing.params !== paramsText) return { kind: "mismatch", charge: toCharge(existing) };
			this.ctx.storage.sql.exec("UPDATE charges SET attempts = attempts + 1 WHERE idempotency_key = ?", key);
			return { kind: "replayed", charge: { ...toCharge(existing), attempts: existing.attempts + 1 } };
		}
		const declined =
			params.card_token !== "tok_visa" && params.card_token !== "tok_error" && params.card_token !== "tok_timeout";
		const row: Row = {
			id: `ch_${crypto.randomUUID().replaceAll("-", "")}`,
			idempotency_key: key,
			amount_cents: params.amount_cents,
			currency: params.currency,
			card_token: params.card_token,
			description: params.description,
			status: declined ? "declined" : "succeeded",
			decline_code: declined ? (params.card_token === "tok_declined" ? "card_declined" : "invalid_token") : null,
			attempts: 1,
			params: paramsText,
			created_at: Date.now(),
		};
		this.ctx.storage.sql.exec(
			"INSERT INTO charges (id, idempotency_key, amount_cents, currency, card_token, description, status, decline_code, attempts, params, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			row.id,
			row.idempotency_key,
			row.amount_cents,
			row.currency,
			row.card_token,
			row.description,
			row.status,
			row.decline_code,
			row.attempts,
			row.params,
			row.created_at,
		);
		return { kind: "created", charge: toCharge(row) };
	}

	/** Recorded charges, newest first, optionally only the one of a key. */
	list(idempotencyKey: string | null, limit: number): SandboxCharge[] {
		const rows =
			idempotencyKey === null
				? this.ctx.storage.sql.exec<Row>("SELECT * FROM charges ORDER BY created_at DESC LIMIT ?", limit).toArray()
				: this.ctx.storage.sql.exec<Row>("SELECT * FROM charges WHERE idempotency_key = ?", idempotencyKey).toArray();
		return rows.map(toCharge);
	}

	#find(key: string): Row | undefined {
		return this.ctx.storage.sql.exec<Row>("SELECT * FROM charges WHERE idempotency_key = ?", key).toArray()[0];
	}
}

function toCharge(row: Row): SandboxCharge {
	const { params: _params, created_at, ...rest } = row;
	return { ...rest, created_at: new Date(created_at).toISOString() };
}
