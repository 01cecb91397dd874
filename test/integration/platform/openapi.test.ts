import { describe, expect, it } from "vitest";
import { app } from "../../../src/index";
import { errorBodySchema } from "../../../src/platform/openapi";
import { UNDOCUMENTED_PATHS } from "../../../src/platform/openapi-document";
import { call } from "../helpers";

type Operation = {
	tags?: string[];
	summary?: string;
	security?: Record<string, string[]>[];
	parameters?: ({ $ref: string } | { in: string; name: string })[];
	responses: Record<string, { $ref?: string; headers?: Record<string, unknown> }>;
};
type Document = {
	openapi: string;
	paths: Record<string, Record<string, Operation>>;
	components: {
		schemas: Record<string, { required?: string[] }>;
		securitySchemes: Record<string, { type: string; scheme: string }>;
		responses: Record<string, { headers?: Record<string, unknown> }>;
	};
};

async function openApi(): Promise<Document> {
	const res = await call("GET", "/api/v1/openapi.json");
	expect(res.status).toBe(200);
	return res.json<Document>();
}

function operation(doc: Document, method: string, path: string): Operation {
	const op = doc.paths[path]?.[method];
	if (!op) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
	return op;
}

describe("the OpenAPI document", () => {
	it("documents every route the app registers", async () => {
		const doc = await openApi();
		const missing = app.routes
			// `ALL` entries are middleware (auth, limiter, idempotency), not routes.
			.filter((r) => r.method !== "ALL")
			.filter((r) => !UNDOCUMENTED_PATHS.some((u) => u.pattern.test(r.path)))
			.map((r) => ({ method: r.method.toLowerCase(), path: r.path.replace(/\/:([A-Za-z0-9_]+)/g, "/{$1}") }))
			.filter((r) => doc.paths[r.path]?.[r.method] === undefined)
			.map((r) => `${r.method.toUpperCase()} ${r.path}`);
		expect([...new Set(missing)]).toEqual([]);
	});

	// A success is a 2xx, or a 3xx for an operation whose answer is a redirect (POST /s/{slug}: 303 to the destination).
	it("gives every operation a tag, a summary and its answers", async () => {
		const doc = await openApi();
		const bare = Object.entries(doc.paths).flatMap(([path, item]) =>
			Object.entries(item)
				.filter(([, op]) => !op.tags?.length || !op.summary || !Object.keys(op.responses).some((s) => /^[23]/.test(s)))
				.map(([method]) => `${method.toUpperCase()} ${path}`),
		);
		expect(bare).toEqual([]);
	});

	it("leaves out only the sandbox processor, with a reason", async () => {
		const doc = await openApi();
		expect(UNDOCUMENTED_PATHS.map((u) => u.reason.length > 0)).toEqual([true]);
		expect(Object.keys(doc.paths).filter((p) => p.startsWith("/_sandbox"))).toEqual([]);
		expect(app.routes.some((r) => r.path.startsWith("/_sandbox/processor"))).toBe(true);
	});

	it("is OpenAPI 3.1 with the error component and the three security schemes", async () => {
		const doc = await openApi();
		expect(doc.openapi).toBe("3.1.0");
		expect(doc.components.schemas.Error?.required).toEqual(["error", "request_id"]);
		for (const name of ["apiKey", "adminToken", "deviceToken"]) {
			expect(doc.components.securitySchemes[name]).toMatchObject({ type: "http", scheme: "bearer" });
		}
		expect(doc.components.responses.RateLimited?.headers).toHaveProperty("Retry-After");
	});

	it("gives a POST of the tenant API the Idempotency-Key header and Idempotent-Replayed answer", async () => {
		const doc = await openApi();
		const enqueue = operation(doc, "post", "/api/v1/jobs");
		expect(enqueue.parameters).toContainEqual({ $ref: "#/components/parameters/IdempotencyKey" });
		expect(enqueue.responses["202"]?.headers).toHaveProperty("Idempotent-Replayed");
		expect(enqueue.responses["202"]?.headers).toHaveProperty("RateLimit");
		expect(enqueue.responses["422"]).toEqual({ $ref: "#/components/responses/IdempotencyKeyReused" });
		const pay = operation(doc, "post", "/api/v1/payments");
		expect(pay.parameters).toContainEqual({ $ref: "#/components/parameters/IdempotencyKeyRequired" });
		expect(pay.parameters).not.toContainEqual({ $ref: "#/components/parameters/IdempotencyKey" });
		// Admin routes do not go through the idempotency middleware.
		expect(operation(doc, "post", "/api/v1/admin/tenants").parameters ?? []).toEqual([]);
	});

	it("lists the credentials each route accepts", async () => {
		const doc = await openApi();
		expect(operation(doc, "get", "/api/v1/jobs/{id}").security).toEqual([{ apiKey: [] }]);
		expect(operation(doc, "get", "/api/v1/admin/tenants").security).toEqual([{ adminToken: [] }]);
		expect(operation(doc, "post", "/api/v1/location/update").security).toEqual([{ deviceToken: [] }, { apiKey: [] }]);
		expect(operation(doc, "get", "/api/v1/stats").security).toEqual([{ adminToken: [] }, { apiKey: [] }]);
		expect(operation(doc, "get", "/api/v1/health").security).toEqual([]);
	});

	it("describes validated input and the 400 of every validated route", async () => {
		const doc = await openApi();
		const list = operation(doc, "get", "/api/v1/jobs");
		expect(list.parameters).toContainEqual(expect.objectContaining({ in: "query", name: "status" }));
		expect(list.responses["400"]).toBeDefined();
	});

	it("describes errors with the shape the app really answers", async () => {
		const res = await call("GET", "/api/v1/jobs/job_0", { token: "fg_live_not-a-key" });
		expect(res.status).toBe(401);
		expect(errorBodySchema.safeParse(await res.json()).success).toBe(true);
	});

	it("is generated once per isolate and served without credentials", async () => {
		const [a, b] = await Promise.all([call("GET", "/api/v1/openapi.json"), call("GET", "/api/v1/openapi.json")]);
		expect(await a.text()).toBe(await b.text());
	});
});
