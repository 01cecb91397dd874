export type PaymentStatus = "pending" | "succeeded" | "declined" | "failed";

export type PaymentRow = {
	id: string;
	tenant_id: string;
	idempotency_key: string;
	request_hash: string;
	machine_id: string;
	amount_cents: number;
	currency: string;
	card_token: string;
	items: string;
	status: PaymentStatus;
	processor_charge_id: string | null;
	decline_code: string | null;
	created_at: number;
	updated_at: number;
	/** The processor's raw answer once settled; nulled after PAYMENT_RAW_RETENTION_DAYS. */
	processor_answer: string | null;
	reconcile_attempts: number;
	next_reconcile_at: number | null;
	failure_reason: string | null;
};

/** The columns a new payment is inserted with (the reconciler's and the answer's start empty). */
export type NewPaymentRow = Omit<
	PaymentRow,
	"processor_answer" | "reconcile_attempts" | "next_reconcile_at" | "failure_reason"
>;

const INSERT_COLUMNS =
	"id, tenant_id, idempotency_key, request_hash, machine_id, amount_cents, currency, card_token, items, status, processor_charge_id, decline_code, created_at, updated_at";
const COLUMNS = `${INSERT_COLUMNS}, processor_answer, reconcile_attempts, next_reconcile_at, failure_reason`;

/**
 * Inserts a pending payment unless the tenant already has one under this idempotency key, and
 * returns whichever row holds the key now (one round trip, so a concurrent insert cannot slip between).
 */
export async function claimPayment(db: D1Database, row: NewPaymentRow): Promise<PaymentRow> {
	const [, selected] = await db.batch<PaymentRow>([
		db
			.prepare(
				`INSERT INTO payments (${INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`,
			)
			.bind(
				row.id,
				row.tenant_id,
				row.idempotency_key,
				row.request_hash,
				row.machine_id,
				row.amount_cents,
				row.currency,
				row.card_token,
				row.items,
				row.status,
				row.processor_charge_id,
				row.decline_code,
				row.created_at,
				row.updated_at,
			),
		db
			.prepare(`SELECT ${COLUMNS} FROM payments WHERE tenant_id = ? AND idempotency_key = ?`)
			.bind(row.tenant_id, row.idempotency_key),
	]);
	const held = selected?.results[0];
	if (!held) throw new Error("payment row missing right after its insert");
	return held;
}

/** Records the processor's final answer on a pending payment; a settled payment is never changed. */
export async function settlePayment(
	db: D1Database,
	id: string,
	outcome: { status: "succeeded" | "declined"; chargeId: string; declineCode: string | null; answer: string | null },
	now: number,
): Promise<PaymentRow | null> {
	return db
		.prepare(
			`UPDATE payments SET status = ?, processor_charge_id = ?, decline_code = ?, processor_answer = ?, updated_at = ? WHERE id = ? AND status = 'pending' RETURNING ${COLUMNS}`,
		)
		.bind(outcome.status, outcome.chargeId, outcome.declineCode, outcome.answer, now, id)
		.first<PaymentRow>();
}

/** Pending payments created before `createdBefore` whose next try is due, oldest first. */
export async function listPaymentsToReconcile(
	db: D1Database,
	q: { createdBefore: number; now: number; limit: number },
): Promise<PaymentRow[]> {
	const { results } = await db
		.prepare(
			`SELECT ${COLUMNS} FROM payments WHERE status = 'pending' AND created_at < ?
 AND (next_reconcile_at IS NULL OR next_reconcile_at <= ?) ORDER BY created_at, id LIMIT ?`,
		)
		.bind(q.createdBefore, q.now, q.limit)
		.all<PaymentRow>();
	return results;
}

/** Counts a reconciler try whose answer was still unknown; only while the payment is pending. */
export async function deferReconcile(
	db: D1Database,
	id: string,
	q: { attempts: number; nextAt: number; now: number },
): Promise<void> {
	await db
		.prepare(
			"UPDATE payments SET reconcile_attempts = ?, next_reconcile_at = ?, updated_at = ? WHERE id = ? AND status = 'pending'",
		)
		.bind(q.attempts, q.nextAt, q.now, id)
		.run();
}

/** The reconciler gives up: `failed`, with the reason an operator acts on. */
export async function failPayment(
	db: D1Database,
	id: string,
	q: { attempts: number; reason: string; now: number },
): Promise<void> {
	await db
		.prepare(
			"UPDATE payments SET status = 'failed', reconcile_attempts = ?, next_reconcile_at = NULL, failure_reason = ?, updated_at = ? WHERE id = ? AND status = 'pending'",
		)
		.bind(q.attempts, q.reason, q.now, id)
		.run();
}

export async function findPayment(db: D1Database, tenantId: string, id: string): Promise<PaymentRow | null> {
	return db
		.prepare(`SELECT ${COLUMNS} FROM payments WHERE tenant_id = ? AND id = ?`)
		.bind(tenantId, id)
		.first<PaymentRow>();
}

/** One page of a machine's payments, newest first, after the (created_at, id) cursor if given. */
export async function listMachinePayments(
	db: D1Database,
	tenantId: string,
	machineId: string,
	limit: number,
	after: { createdAt: number; id: string } | null,
): Promise<PaymentRow[]> {
	const stmt = after
		? db
				.prepare(
					`SELECT ${COLUMNS} FROM payments WHERE tenant_id = ? AND machine_id = ? AND (created_at < ? OR (created_at = ? AND id < ?)) ORDER BY created_at DESC, id DESC LIMIT ?`,
				)
				.bind(tenantId, machineId, after.createdAt, after.createdAt, after.id, limit)
		: db
				.prepare(
					`SELECT ${COLUMNS} FROM payments WHERE tenant_id = ? AND machine_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
				)
				.bind(tenantId, machineId, limit);
	return (await stmt.all<PaymentRow>()).results;
}

/** Nulls the raw processor answer of payments settled before `cutoff`; the ledger row stays. */
export async function purgeExpiredProcessorAnswers(db: D1Database, cutoff: number, limit: number): Promise<number> {
	const result = await db
		.prepare(
			"UPDATE payments SET processor_answer = NULL WHERE rowid IN (SELECT rowid FROM payments WHERE processor_answer IS NOT NULL AND updated_at < ? ORDER BY updated_at LIMIT ?)",
		)
		.bind(cutoff, limit)
		.run();
	return result.meta.changes;
}
