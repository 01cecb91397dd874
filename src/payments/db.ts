export type PaymentStatus = "pending" | "succeeded" | "declined";

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
};

const COLUMNS =
	"id, tenant_id, idempotency_key, request_hash, machine_id, amount_cents, currency, card_token, items, status, processor_charge_id, decline_code, created_at, updated_at";

/**
 * Inserts a pending payment unless the tenant already has one under this idempotency key, and
 * returns whichever row holds the key now (one round trip, so a concurrent insert cannot slip between).
 */
export async function claimPayment(db: D1Database, row: PaymentRow): Promise<PaymentRow> {
	const [, selected] = await db.batch<PaymentRow>([
		db
			.prepare(
				`INSERT INTO payments (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`,
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
	outcome: { status: "succeeded" | "declined"; chargeId: string; declineCode: string | null },
	now: number,
): Promise<PaymentRow | null> {
	return db
		.prepare(
			`UPDATE payments SET status = ?, processor_charge_id = ?, decline_code = ?, updated_at = ? WHERE id = ? AND status = 'pending' RETURNING ${COLUMNS}`,
		)
		.bind(outcome.status, outcome.chargeId, outcome.declineCode, now, id)
		.first<PaymentRow>();
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
