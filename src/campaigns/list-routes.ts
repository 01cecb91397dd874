import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { newId } from "../platform/crypto";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import {
	countByStatus,
	deleteSubscriber,
	getList,
	getSubscriber,
	importSubscribers,
	insertList,
	listLists,
	listSubscribers,
} from "./db";
import { CAMPAIGN_LIMITS, checkImportRows, parseCsv } from "./domain";
import { listDocs } from "./openapi";
import { listJson, subscriberJson } from "./views";

const LIST_ID = z.string().regex(/^lst_[0-9a-f]{24}$/, "a list id");
const listParams = z.object({ id: LIST_ID });
const subscriberParams = z.object({
	id: LIST_ID,
	subscriberId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});
const pageQuery = z.object({
	cursor: z.string().max(64).optional(),
	limit: z.coerce.number().int().min(1).max(CAMPAIGN_LIMITS.maxPageSize).default(CAMPAIGN_LIMITS.pageSize),
});
const createBody = z.object({ name: z.string().trim().min(1).max(200) }).strict();
const importRow = z
	.object({ email: z.unknown().optional(), first_name: z.unknown().optional(), last_name: z.unknown().optional() })
	.loose();
const importBody = z
	.object({
		subscribers: z.array(importRow).max(CAMPAIGN_LIMITS.maxImportRows).optional(),
		csv: z.string().max(2_000_000).optional(),
		strict: z.boolean().default(false).describe("Refuse the whole import (400) when any row is invalid."),
	})
	.strict()
	.refine(
		(b) => (b.subscribers === undefined) !== (b.csv === undefined),
		"send exactly one of subscribers (JSON rows) or csv",
	);

/** Lists and their subscribers. */
export const listRoutes = new Hono<AppEnv>()
	.post("/", listDocs.create, validate("json", createBody), async (c) => {
		const row = { list_id: newId("lst"), name: c.req.valid("json").name, created_at: Date.now() };
		await insertList(c.env.DB, c.get("principal").tenantId, row);
		return c.json(listJson(row, {}), 201);
	})
	.get("/", listDocs.list, validate("query", pageQuery), async (c) => {
		const { cursor, limit } = c.req.valid("query");
		const tenantId = c.get("principal").tenantId;
		const rows = await listLists(c.env.DB, tenantId, cursor ?? "", limit + 1);
		const page = rows.slice(0, limit);
		const lists = await Promise.all(
			page.map(async (r) => listJson(r, await countByStatus(c.env.DB, tenantId, r.list_id))),
		);
		return c.json({ lists, next_cursor: rows.length > limit ? (page.at(-1)?.list_id ?? null) : null });
	})
	.get("/:id", listDocs.get, validate("param", listParams), async (c) => {
		const tenantId = c.get("principal").tenantId;
		const list = await requireList(c.env.DB, tenantId, c.req.valid("param").id);
		return c.json(listJson(list, await countByStatus(c.env.DB, tenantId, list.list_id)));
	})
	.post(
		"/:id/subscribers:import",
		listDocs.importSubscribers,
		validate("param", listParams),
		validate("json", importBody),
		async (c) => {
			const tenantId = c.get("principal").tenantId;
			const list = await requireList(c.env.DB, tenantId, c.req.valid("param").id);
			const body = c.req.valid("json");
			const rows = body.csv === undefined ? (body.subscribers ?? []) : csvRows(body.csv);
			const { valid, errors } = checkImportRows(rows);
			if (body.strict && errors.length > 0) {
				throw new AppError(400, "invalid_rows", `${errors.length} rows are invalid; nothing was imported.`, {
					rows: errors.slice(0, 1000),
				});
			}
			await importSubscribers(c.env.DB, tenantId, list.list_id, valid, Date.now());
			return c.json({ imported: valid.length, invalid: errors.slice(0, 1000) });
		},
	)
	.get(
		"/:id/subscribers",
		listDocs.subscribers,
		validate("param", listParams),
		validate("query", pageQuery),
		async (c) => {
			const tenantId = c.get("principal").tenantId;
			const list = await requireList(c.env.DB, tenantId, c.req.valid("param").id);
			const { cursor, limit } = c.req.valid("query");
			const after = cursor !== undefined && /^\d{1,16}$/.test(cursor) ? Number(cursor) : 0;
			const rows = await listSubscribers(c.env.DB, tenantId, list.list_id, after, limit + 1);
			const page = rows.slice(0, limit);
			const last = page.at(-1);
			return c.json({
				subscribers: page.map(subscriberJson),
				next_cursor: rows.length > limit && last ? String(last.id) : null,
			});
		},
	)
	.get("/:id/subscribers/:subscriberId", listDocs.getSubscriber, validate("param", subscriberParams), async (c) => {
		const { id, subscriberId } = c.req.valid("param");
		const row = await getSubscriber(c.env.DB, c.get("principal").tenantId, id, subscriberId);
		if (!row) throw new AppError(404, "not_found", `No subscriber ${subscriberId} in list ${id}.`);
		return c.json(subscriberJson(row));
	})
	.delete(
		"/:id/subscribers/:subscriberId",
		listDocs.deleteSubscriber,
		validate("param", subscriberParams),
		async (c) => {
			const { id, subscriberId } = c.req.valid("param");
			if (!(await deleteSubscriber(c.env.DB, c.get("principal").tenantId, id, subscriberId))) {
				throw new AppError(404, "not_found", `No subscriber ${subscriberId} in list ${id}.`);
			}
			return c.body(null, 204);
		},
	);

async function requireList(db: D1Database, tenantId: string, listId: string) {
	const list = await getList(db, tenantId, listId);
	if (!list) throw new AppError(404, "not_found", `No list ${listId}.`);
	return list;
}

function csvRows(csv: string): Record<string, string>[] {
	const parsed = parseCsv(csv);
	if ("error" in parsed) {
		throw new AppError(400, "validation_failed", `Invalid csv: ${parsed.error}.`, {
			fields: [{ path: "csv", message: parsed.error }],
		});
	}
	if (parsed.rows.length > CAMPAIGN_LIMITS.maxImportRows) {
		throw new AppError(400, "validation_failed", `At most ${CAMPAIGN_LIMITS.maxImportRows} rows per import.`, {
			fields: [{ path: "csv", message: `more than ${CAMPAIGN_LIMITS.maxImportRows} rows` }],
		});
	}
	return parsed.rows;
}
