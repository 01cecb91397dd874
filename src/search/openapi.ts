import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";

/** Autocomplete's answers as schemas and its routes' OpenAPI descriptions. */

const suggestionSchema = z
	.object({
		text: z.string(),
		weight: z.number(),
		popularity: z.number().int().describe("Times this suggestion was selected."),
		score: z.number().describe("weight + popularity: the ranking."),
		highlight: z
			.object({ start: z.number().int(), end: z.number().int() })
			.describe("The matched part of text, as [start, end) UTF-16 offsets."),
		fuzzy: z.boolean().describe("Matched with one edit (typo tolerance, prefixes of 4+ characters)."),
	})
	.meta({ id: "Suggestion" });

const search = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Search"], access: "tenant", ...doc }));

export const searchDocs = {
	upsert: search({
		summary: "Add terms or replace their weights (up to 10,000 a call; 1,000,000 terms an index)",
		description:
			"Each term is stored in the shard objects of its words' first characters. The index cap (1,000,000 terms) " +
			"and the per-shard cap (400,000 word keys) are checked before writing: a call over either is a 422 " +
			"index_full and writes nothing. Short-prefix answers cached at the edge may show the previous terms " +
			"for up to 10 s.",
		ok: { 200: z.object({ index: z.string(), upserted: z.number().int(), total: z.number().int() }) },
		errors: [422, 503],
	}),
	suggest: search({
		summary: "Ranked completions of a prefix (any word's start, case- and accent-insensitive)",
		description:
			"Asks only the shard(s) that can hold the prefix (one; two for some 1-character prefixes). Answers asked " +
			"often are kept in the isolate for up to 5 s (a write through the same isolate drops them at once); " +
			"prefixes of 1–3 normalized characters also in the Cache API for 10 s (X-Suggest-Cache: isolate, edge " +
			"or miss). Server-Timing: total;dur=<ms> is the Worker's own time. One-edit matches for prefixes of 4+ " +
			"characters keep the first or second letter first (a wrong or missing first letter is not corrected); " +
			"those that change the first two letters are looked for only when nothing matched as typed.",
		ok: { 200: z.object({ index: z.string(), q: z.string(), suggestions: z.array(suggestionSchema) }) },
		errors: [503],
	}),
	stats: search({
		summary: "An index's term count and, per shard, its terms and in-memory word keys",
		ok: {
			200: z.object({
				index: z.string(),
				terms: z.number().int(),
				shards: z.array(z.object({ shard: z.number().int(), terms: z.number().int(), keys: z.number().int() })),
			}),
		},
		errors: [404, 503],
	}),
	clear: search({
		summary: "Delete an index: every term in every shard",
		ok: { 200: z.object({ index: z.string(), deleted: z.literal(true), terms: z.number().int() }) },
		errors: [404, 503],
	}),
	remove: search({
		summary: "Remove a term",
		ok: { 200: z.object({ index: z.string(), text: z.string(), deleted: z.literal(true) }) },
		errors: [404, 503],
	}),
	select: search({
		summary: "Record that a user picked a suggestion (one popularity point)",
		ok: { 200: z.object({ index: z.string(), text: z.string(), popularity: z.number().int() }) },
		errors: [404, 503],
	}),
};
