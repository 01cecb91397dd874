import jsQR from "jsqr";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";
import { rasterise } from "./svg-raster";

/** pngjs's streaming parser (its sync reader needs a zlib class workerd does not construct). */
function decodePng(bytes: ArrayBuffer): Promise<PNG> {
	return new Promise((resolve, reject) => {
		new PNG().parse(Buffer.from(bytes), (err, png) => (err ? reject(err) : resolve(png)));
	});
}

async function makeLink(apiKey: string): Promise<{ slug: string; short_url: string }> {
	const res = await call("POST", "/api/v1/links", { token: apiKey, body: { url: "https://example.com/qr" } });
	expect(res.status).toBe(201);
	return res.json();
}

describe("a short link's QR code", () => {
	it("as PNG decodes (pngjs + jsQR) to the short URL", async () => {
		const { apiKey } = await createTenant();
		const link = await makeLink(apiKey);
		const res = await call("GET", `/api/v1/links/${link.slug}/qr.png`, { token: apiKey });
		expect(res.status).toBe(200);
		expect(res.headers.get("Content-Type")).toBe("image/png");
		const png = await decodePng(await res.arrayBuffer());
		expect(png.width).toBe(png.height);
		const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
		expect(decoded?.data).toBe(link.short_url);
	});

	it("as SVG draws the same symbol: rasterised, it decodes to the short URL", async () => {
		const { apiKey } = await createTenant();
		const link = await makeLink(apiKey);
		const res = await call("GET", `/api/v1/links/${link.slug}/qr.svg`, { token: apiKey });
		expect(res.status).toBe(200);
		expect(res.headers.get("Content-Type")).toBe("image/svg+xml");
		const svg = await res.text();
		const size = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)?.[1]);
		expect(size).toBeGreaterThan(20);
		const image = rasterise(svg, size, 6);
		expect(jsQR(image, size * 6, size * 6)?.data).toBe(link.short_url);
	});

	it("is a 404 for another tenant's link and for an unknown slug", async () => {
		const a = await createTenant();
		const b = await createTenant();
		const link = await makeLink(a.apiKey);
		for (const format of ["png", "svg"]) {
			expect((await call("GET", `/api/v1/links/${link.slug}/qr.${format}`, { token: b.apiKey })).status).toBe(404);
			expect((await call("GET", `/api/v1/links/no-such-slug/qr.${format}`, { token: a.apiKey })).status).toBe(404);
		}
		expect((await call("GET", `/api/v1/links/${link.slug}/qr.png`)).status).toBe(401);
	});
});
