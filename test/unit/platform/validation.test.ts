import { Hono } from "hono";
import { generateSpecs } from "hono-openapi";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError, errorResponse } from "../../../src/platform/errors";
import { validate } from "../../../src/platform/validation";

type ErrorJson = { error: { code: string; message: string; details: { fields: { path: string; message: string }[] } } };

const params = z.object({ name: z.string().regex(/^[a-z]+$/, "lowercase letters"), id: z.string().transform(Number) });
const query = z.object({
	n: z
		.string()
		.regex(/^[0-9]+$/)
		.transform(Number)
		.optional(),
	tag: z.string().optional(),
	tags: z.array(z.string()).optional(),
});
const app = new Hono()
	.get("/items/:name/:id", validate("param", params), validate("query", query), (c) =>
		c.json({ param: c.req.valid("param"), query: c.req.valid("query") }),
	)
	.onError((err, c) => (err instanceof AppError ? errorResponse(c, err) : c.json({ unexpected: String(err) }, 500)));

describe("validate() for path and query parameters", () => {
	it("hands the handler the schemas' output: decoded params, absent query as {}, repeated names as arrays", async () => {
		const plain = await app.request("/items/ab%63/7");
		expect(await plain.json()).toEqual({ param: { name: "abc", id: 7 }, query: {} });
		const res = await app.request("/items/abc/7?n=42&tag=x&tags=a&tags=b");
		expect(await res.json()).toEqual({ param: { name: "abc", id: 7 }, query: { n: 42, tag: "x", tags: ["a", "b"] } });
	});

	it("answers 400 validation_failed naming each offending field", async () => {
		const badParam = await app.request("/items/ABC/7");
		expect(badParam.status).toBe(400);
		const body = await badParam.json<ErrorJson>();
		expect(body.error.code).toBe("validation_failed");
		expect(body.error.message).toBe("Invalid param: name: lowercase letters");
		expect(body.error.details.fields).toEqual([{ path: "name", message: "lowercase letters" }]);

		const badQuery = await app.request("/items/abc/7?n=x&tag=a&tag=b");
		expect(badQuery.status).toBe(400);
		const fields = (await badQuery.json<ErrorJson>()).error.details.fields.map((f) => f.path);
		expect(fields.sort()).toEqual(["n", "tag"]);
	});

	it("still describes the parameters in the OpenAPI document", async () => {
		const spec = await generateSpecs(app);
		const operation = spec.paths?.["/items/{name}/{id}"]?.get;
		const names = (operation?.parameters ?? []).map((p) => ("name" in p ? `${p.in}:${p.name}` : ""));
		expect(names.sort()).toEqual(["path:id", "path:name", "query:n", "query:tag", "query:tags"]);
	});
});
