/**
 * Draws qrcode's SVG path (`M x y h n` runs of dark modules in the stroke path) into RGBA pixels,
 * `scale` pixels per module, white background: enough of an SVG renderer for this one shape.
 */
export function rasterise(svg: string, size: number, scale: number): Uint8ClampedArray {
	const width = size * scale;
	const pixels = new Uint8ClampedArray(width * width * 4).fill(255);
	const path = /<path[^>]*stroke="#000000"[^>]*d="([^"]+)"/.exec(svg)?.[1] ?? "";
	let x = 0;
	let y = 0;
	for (const [, op, a, b] of path.matchAll(/([MmHhVv])(-?\d+(?:\.\d+)?)(?:\s(-?\d+(?:\.\d+)?))?/g)) {
		const n = Number(a);
		if (op === "M") [x, y] = [n, Number(b)];
		else if (op === "m") [x, y] = [x + n, y + Number(b)];
		else if (op === "h") {
			for (let i = 0; i < n; i++) paint(pixels, width, Math.floor(x + i), Math.floor(y), scale);
			x += n;
		}
	}
	return pixels;
}

function paint(pixels: Uint8ClampedArray, width: number, mx: number, my: number, scale: number): void {
	for (let dy = 0; dy < scale; dy++)
		for (let dx = 0; dx < scale; dx++) {
			const i = ((my * scale + dy) * width + mx * scale + dx) * 4;
			pixels[i] = pixels[i + 1] = pixels[i + 2] = 0;
		}
}
