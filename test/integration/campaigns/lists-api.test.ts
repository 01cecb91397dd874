import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant, json } from "../helpers";
import type { Json } from "../helpers";
import { addresses, createList, importRows } from "./campaign-helpers";

describe("lists and subscriber imports", () => {
	it("imports JSON rows, reports invalid ones per row and is idempotent by address", async () => {
		const { apiKey } = await createTenant();
		const listId = await createList(apiKey);
		const rows = [
			...addresses(3),
			{ email: "not-an-address" },
			{ first_name: "no email" },
			{ email: "USER0@example.com " },
		];
		const first = await importRows(apiKey, listId, { subscribers: rows });
		expect(first.imported).toBe(3);
		expect(first.invalid).toEqual([
			{ row: 4, email: "not-an-address", message: "not a valid email address" },
			{ row: 5, email: null, message: "email is missing" },
		]);
		await importRows(apiKey, listId, { subscribers: rows });
		const list = await json(await call("GET", `/api/v1/lists/${listId}`, { token: apiKey }));
		expect(list.counts).toEqual({ subscribed: 3, unsubscribed: 0, bounced: 0, complained: 0 });
	});

	it("imports CSV with quoted fields and refuses everything in strict mode when a row is invalid", async () => {
		const { apiKey } = await createTenant();
		const listId = await createList(apiKey);
		const csv = 'email,first_name\r\na@example.com,"Smith, Jo"\r\nb@example.com,"Say ""hi"""\r\nbroken,x\r\n';
		const strict = await call("POST", `/api/v1/lists/${listId}/subscribers:import`, {
			token: apiKey,
			body: { csv, strict: true },
		});
		expect(strict.status).toBe(400);
		expect((await json(strict)).error).toMatchObject({
			code: "invalid_rows",
			details: { rows: [{ row: 3, email: "broken" }] },
		});
		const subs = await call("GET", `/api/v1/lists/${listId}/subscribers`, { token: apiKey });
		expect((await json(subs)).subscribers).toEqual([]);
		const loose = await importRows(apiKey, listId, { csv });
		expect(loose.imported).toBe(2);
		const page = await json(await call("GET", `/api/v1/lists/${listId}/subscribers`, { token: apiKey }));
		expect((page.subscribers as Json[]).map((s) => s.first_name)).toEqual(["Smith, Jo", 'Say "hi"']);
		const noHeader = await call("POST", `/api/v1/lists/${listId}/subscribers:import`, {
			token: apiKey,
			body: { csv: "a@example.com\n" },
		});
		expect(noHeader.status).toBe(400);
		const both = await call("POST", `/api/v1/lists/${listId}/subscribers:import`, {
			token: apiKey,
			body: { csv, subscribers: [] },
		});
		expect(both.status).toBe(400);
	});

	it("imports 10,000 rows in one call, refuses 10,001, and pages the subscribers", async () => {
		const { apiKey, tenantId } = await createTenant();
		const listId = await createList(apiKey);
		const result = await importRows(apiKey, listId, { subscribers: addresses(10_000) });
		expect(result.imported).toBe(10_000);
		const over = await call("POST", `/api/v1/lists/${listId}/subscribers:import`, {
			token: apiKey,
			body: { subscribers: addresses(10_001, "x") },
		});
		expect(over.status).toBe(400);
		const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM email_subscribers WHERE tenant_id = ?")
			.bind(tenantId)
			.first<{ n: number }>();
		expect(n?.n).toBe(10_000);
		const page1 = await json(await call("GET", `/api/v1/lists/${listId}/subscribers?limit=500`, { token: apiKey }));
		expect((page1.subscribers as Json[]).length).toBe(500);
		const page2 = await json(
			await call("GET", `/api/v1/lists/${listId}/subscribers?limit=500&cursor=${String(page1.next_cursor)}`, {
				token: apiKey,
			}),
		);
		expect((page2.subscribers as Json[])[0]?.subscriber_id).toBeGreaterThan(Number(page1.next_cursor));
	});

	it("gets and deletes a subscriber, and answers 404 for another tenant's list and subscriber", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const listId = await createList(a.apiKey);
		await importRows(a.apiKey, listId, { subscribers: addresses(1) });
		const page = await json(await call("GET", `/api/v1/lists/${listId}/subscribers`, { token: a.apiKey }));
		const id = String((page.subscribers as Json[])[0]?.subscriber_id);
		for (const [method, path, body] of [
			["GET", `/api/v1/lists/${listId}`, undefined],
			["GET", `/api/v1/lists/${listId}/subscribers`, undefined],
			["GET", `/api/v1/lists/${listId}/subscribers/${id}`, undefined],
			["DELETE", `/api/v1/lists/${listId}/subscribers/${id}`, undefined],
			["POST", `/api/v1/lists/${listId}/subscribers:import`, { subscribers: addresses(1, "b") }],
		] as const) {
			expect((await call(method, path, { token: b.apiKey, body })).status, `${method} ${path}`).toBe(404);
		}
		expect((await call("GET", `/api/v1/lists/${listId}/subscribers/${id}`, { token: a.apiKey })).status).toBe(200);
		expect((await call("DELETE", `/api/v1/lists/${listId}/subscribers/${id}`, { token: a.apiKey })).status).toBe(204);
		expect((await call("GET", `/api/v1/lists/${listId}/subscribers/${id}`, { token: a.apiKey })).status).toBe(404);
		expect((await call("GET", "/api/v1/lists/lst_000000000000000000000000", { token: a.apiKey })).status).toBe(404);
		expect((await call("GET", "/api/v1/lists/nope", { token: a.apiKey })).status).toBe(400);
	});
});
