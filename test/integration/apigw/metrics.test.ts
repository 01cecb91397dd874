import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { flushRouteMetrics } from "../../../src/apigw/route-metrics";
import { createTenant } from "../helpers";
import { A, gw, interceptUpstreams, mustPutRoute, ok, routeBody } from "./apigw-helpers";

afterEach(() => vi.restoreAllMocks());

type SeriesRow = { name: string; labels: string; type: string };

describe("gateway per-route metrics", () => {
	it("records requests by route and status class and a latency histogram in the tenant's metrics", async () => {
		const { apiKey, tenantId } = await createTenant();
		await mustPutRoute(apiKey, "orders", routeBody("/orders", [A], { retries: 0 }));
		let status = 200;
		interceptUpstreams({
			[A]: () => {
				if (status === 0) throw new TypeError("connection refused");
				return status === 200 ? ok() : new Response("no", { status });
			},
		});
		await gw(tenantId, "/orders/1");
		status = 404;
		await gw(tenantId, "/orders/2");
		// The gateway's own error (502: the upstream could not be reached) counts too.
		status = 0;
		expect((await gw(tenantId, "/orders/3")).status).toBe(502);
		await flushRouteMetrics(env, Date.now());
		const { results } = await env.DB.prepare(
			"SELECT name, labels, type FROM metric_series WHERE tenant_id = ? ORDER BY name, labels",
		)
			.bind(tenantId)
			.all<SeriesRow>();
		const series = results.map((r) => [r.name, JSON.parse(r.labels), r.type]);
		expect(series).toContainEqual(["apigw_request_duration_ms", { route: "orders" }, "histogram"]);
		expect(series).toContainEqual(["apigw_requests", { route: "orders", status: "2xx" }, "gauge"]);
		expect(series).toContainEqual(["apigw_requests", { route: "orders", status: "4xx" }, "gauge"]);
		expect(series).toContainEqual(["apigw_requests", { route: "orders", status: "5xx" }, "gauge"]);
	});
});
