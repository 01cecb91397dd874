import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { SEARCH_LIMITS } from "./domain";
import { searchDocs } from "./openapi";
import { clearIndex, importTerms, indexStats, removeTerm, selectTerm } from "./service";
import { forgetSuggestions, purgeTerm, suggest } from "./suggest";

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

/** Search autocomplete: one index per tenant and name (spread over shard objects), created by its first terms. */
export const searchRoutes = new Hono<AppEnv>()
	.post(
		"/indexes/:name/documents",
		searchDocs.upsert,
		validate("param", indexParams),
		validate("json", upsertBody),
		async (c) => {
			const { name } = c.req.valid("param");
			const tenantId = c.get("principal").tenantId;
			try {
				return c.json({ index: name, ...(await importTerms(c.env, tenantId, name, c.req.valid("json").terms)) });
			} finally {
				forgetSuggestions(tenantId, name);
			}
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
			const answer = await suggest(c.env, c.executionCtx, c.get("principal").tenantId, name, q, limit);
			// The cached answer is JSON text already: spliced in rather than parsed and serialized again.
			const body = `{"index":${JSON.stringify(name)},"q":${JSON.stringify(q)},"suggestions":${answer.json}}`;
			return c.body(body, 200, { "Content-Type": "application/json", "X-Suggest-Cache": answer.cache });
		},
	)
	.get("/indexes/:name", searchDocs.stats, validate("param", indexParams), async (c) => {
		const { name } = c.req.valid("param");
		const stats = await indexStats(c.env, c.get("principal").tenantId, name);
		if (stats.terms === 0) throw new AppError(404, "not_found", `No index '${name}' (it has no terms).`);
		return c.json({ index: name, ...stats });
	})
	.delete("/indexes/:name", searchDocs.clear, validate("param", indexParams), async (c) => {
		const { name } = c.req.valid("param");
		const tenantId = c.get("principal").tenantId;
		const removed = await clearIndex(c.env, tenantId, name);
		forgetSuggestions(tenantId, name);
		if (removed === 0) throw new AppError(404, "not_found", `No index '${name}' (it has no terms).`);
		return c.json({ index: name, deleted: true as const, terms: removed });
	})
	.delete(
		"/indexes/:name/documents",
		searchDocs.remove,
		validate("param", indexParams),
		validate("query", textQuery),
		async (c) => {
			const { name } = c.req.valid("param");
			const { text } = c.req.valid("query");
			const tenantId = c.get("principal").tenantId;
			const removed = await removeTerm(c.env, tenantId, name, text);
			await purgeTerm(tenantId, name, text);
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
			const popularity = await selectTerm(c.env, tenantId, name, text);
			await purgeTerm(tenantId, name, text);
			if (popularity === null) throw new AppError(404, "not_found", `Index '${name}' has no term '${text}'.`);
			return c.json({ index: name, text, popularity });
		},
	);
