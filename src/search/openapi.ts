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
		summary: "Add terms or replace their weights (up to 10,000 a call)",
		ok: { 200: z.object({ index: z.string(), upserted: z.number().int(), total: z.number().int() }) },
		errors: [422, 503],
	}),
	suggest: search({
		summary: "Ranked completions of a prefix (any word's start, case- and accent-insensitive)",
		ok: { 200: z.object({ index: z.string(), q: z.string(), suggestions: z.array(suggestionSchema) }) },
		errors: [503],
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
