import { describe, expect, it } from "vitest";
import { DestinationRefusedError, outboundHeaders, safeFetch } from "../../../src/platform/safe-fetch";
import { TimeoutError } from "../../../src/platform/timeout";

const POLICY = { allowLoopbackHttp: false, ownHosts: [] };
const BASE = { policy: POLICY, timeoutMs: 1_000, maxResponseBytes: 1_024 };

/** A scripted upstream: answers by URL and records what reached it. */
function upstream(routes: Record<string, (req: Request) => Response | Promise<Response>>) {
	const seen: Request[] = [];
	const fetcher = async (req: Request) => {
		seen.push(req);
		const route = routes[req.url];
		if (!route) return new Response("no route", { status: 404 });
		return route(req);
	};
	return { seen, fetcher };
}

describe("safeFetch", () => {
	it("checks every redirect hop and refuses one that points inside", async () => {
		const { seen, fetcher } = upstream({
			"https://a.example/start": () =>
				new Response(null, { status: 302, headers: { Location: "http://169.254.169.254/latest/meta-data" } }),
		});
		await expect(safeFetch("https://a.example/start", { ...BASE, fetcher })).rejects.toBeInstanceOf(
			DestinationRefusedError,
		);
		expect(seen.map((r) => r.url)).toEqual(["https://a.example/start"]);
	});

	it("follows allowed redirects, turning a 303 into a GET without body, and drops Authorization across origins", async () => {
		const { seen, fetcher } = upstream({
			"https://a.example/post": () =>
				new Response(null, { status: 303, headers: { Location: "https://b.example/done" } }),
			"https://b.example/done": () => new Response("ok"),
		});
		const res = await safeFetch("https://a.example/post", {
			...BASE,
			fetcher,
			method: "POST",
			body: "x",
			headers: { Authorization: "Bearer t", Cookie: "s=1", "X-Forwarded-For": "1.2.3.4", "X-Custom": "1" },
		});
		expect(res.status).toBe(200);
		expect(new TextDecoder().decode(res.body)).toBe("ok");
		expect(seen[0]?.headers.get("Authorization")).toBe("Bearer t");
		expect(seen[0]?.headers.get("Cookie")).toBeNull();
		expect(seen[0]?.headers.get("X-Forwarded-For")).toBeNull();
		expect(seen[1]?.method).toBe("GET");
		expect(seen[1]?.headers.get("Authorization")).toBeNull();
		expect(seen[1]?.headers.get("X-Custom")).toBe("1");
	});

	it("stops after the redirect limit", async () => {
		const { fetcher } = upstream({
			"https://a.example/loop": () => new Response(null, { status: 307, headers: { Location: "/loop" } }),
		});
		await expect(safeFetch("https://a.example/loop", { ...BASE, fetcher, maxRedirects: 2 })).rejects.toThrow(
			/redirects/,
		);
	});

	it("reads at most maxResponseBytes of an endless answer", async () => {
		let pulled = 0;
		const endless = new ReadableStream<Uint8Array>({
			pull(controller) {
				pulled++;
				controller.enqueue(new Uint8Array(512).fill(65));
			},
		});
		const { fetcher } = upstream({ "https://a.example/big": () => new Response(endless) });
		const res = await safeFetch("https://a.example/big", { ...BASE, fetcher });
		expect(res.body.byteLength).toBe(1_024);
		expect(res.truncated).toBe(true);
		expect(pulled).toBeLessThan(10);
	});

	it("gives up at the deadline and aborts the call", async () => {
		let aborted = false;
		const fetcher = (req: Request) =>
			new Promise<Response>((_, reject) => {
				req.signal.addEventListener("abort", () => {
					aborted = true;
					reject(new Error("aborted"));
				});
			});
		await expect(safeFetch("https://a.example/slow", { ...BASE, fetcher, timeoutMs: 50 })).rejects.toBeInstanceOf(
			TimeoutError,
		);
		expect(aborted).toBe(true);
	});

	it("strips hop-by-hop headers", () => {
		const h = outboundHeaders({
			Connection: "close",
			"Transfer-Encoding": "chunked",
			"CF-Connecting-IP": "1.1.1.1",
			Accept: "x",
		});
		expect([...h.keys()]).toEqual(["accept"]);
	});
});
