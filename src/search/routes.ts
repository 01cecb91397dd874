import { Hono } from "hono";
import { z } from "zod";
import type { SelectResult, UpsertResult } from "../../durable-objects/search-autocomplete-shard";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { SEARCH_LIMITS } from "./domain";
import { searchDocs } from "./openapi";
import { callShard, forgetSuggestions, shardStub, suggest } from "./service";

const TEXT = z.string().trim().min(1).max(SEARCH_LIMITS.maxTermLength);
const indexParams = z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "1-64 of a-z, 0-9, '_', '-'") });
const upsertBody = z
	.object({
		terms: z
			.array(z.object({ text: TEXT, weight: z.number().min(0).max(1e9) }).strict())
			.min(1)
			.max(SEARCH_LIMITS.maxTermsPerCall),
	})
	.strict();
const suggestQuery = z
	.object({
		q: z.string().max(SEARCH_LIMITS.maxQueryLength),
		limit: z.coerce.number().int().min(1).max(SEARCH_LIMITS.maxLimit).default(10),
	})
	.strict();
const textQuery = z.object({ text: TEXT }).strict();
const selectBody = z.object({ text: TEXT }).strict();

/** Search autocomplete: one index per tenant and name, created by its first terms. */
export const searchRoutes = new Hono<AppEnv>()
	.post(
		"/indexes/:name/documents",
		searchDocs.upsert,
		validate("param", indexParams),
		validate("json", upsertBody),
		async (c) => {
			const { name } = c.req.valid("param");
			const tenantId = c.get("principal").tenantId;
			const result = await callShard<UpsertResult>(
				shardStub(c.env, tenantId, name).upsert(c.req.valid("json").terms),
				"upsert",
			);
			forgetSuggestions(tenantId, name);
			if (!result.ok) {
				throw new AppError(422, "index_full", `Index '${name}' would pass ${SEARCH_LIMITS.maxTermsPerIndex} terms.`, {
					total: result.total,
				});
			}
			return c.json({ index: name, upserted: result.upserted, total: result.total });
		},
	)
	.get(
		"/indexes/:name/suggest",
		searchDocs.suggest,
		validate("param", indexParams),
		validate("query", suggestQuery),
		async (c) => {
			const { name } = c.req.valid("param");
			const { q, limit } = c.req.valid("query");
			return c.json({ index: name, q, suggestions: await suggest(c.env, c.get("principal").tenantId, name, q, limit) });
		},
	)
	.delete(
		"/indexes/:name/documents",
		searchDocs.remove,
		validate("param", indexParams),
		validate("query", textQuery),
		async (c) => {
			const { name } = c.req.valid("param");
			const { text } = c.req.valid("query");
			const tenantId = c.get("principal").tenantId;
			const removed = await callShard<boolean>(shardStub(c.env, tenantId, name).remove(text), "remove");
			forgetSuggestions(tenantId, name);
			if (!removed) throw new AppError(404, "not_found", `Index '${name}' has no term '${text}'.`);
			return c.json({ index: name, text, deleted: true as const });
		},
	)
	.post(
		"/indexes/:name/selections",
		searchDocs.select,
		validate("param", indexParams),
		validate("json", selectBody),
		async (c) => {
			const { name } = c.req.valid("param");
			const { text } = c.req.valid("json");
			const tenantId = c.get("principal").tenantId;
			const result = await callShard<SelectResult>(shardStub(c.env, tenantId, name).select(text), "select");
			forgetSuggestions(tenantId, name);
			if (!result.ok) throw new AppError(404, "not_found", `Index '${name}' has no term '${text}'.`);
			return c.json({ index: name, text, popularity: result.popularity });
		},
	);
