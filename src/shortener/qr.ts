import QRCode from "qrcode";

/**
 * QR codes of short links: SVG from `qrcode`, PNG encoded here (qrcode's PNG output needs Node's
 * streams and pngjs, which its browser/worker build leaves out): an 8-bit grayscale image of the
 * same module matrix, deflated with the runtime's CompressionStream.
 */

export const QR_SCALE = 8;
/** Quiet zone in modules (the QR specification asks for 4). */
const MARGIN = 4;

export function qrSvg(text: string): Promise<string> {
	return QRCode.toString(text, { type: "svg", errorCorrectionLevel: "M", margin: MARGIN });
}

export async function qrPng(text: string, scale = QR_SCALE): Promise<Uint8Array<ArrayBuffer>> {
	const { modules } = QRCode.create(text, { errorCorrectionLevel: "M" });
	const width = (modules.size + MARGIN * 2) * scale;
	// One filter byte (0: none) per row, then one gray byte per pixel.
	const raw = new Uint8Array((width + 1) * width).fill(255);
	for (let y = 0; y < width; y++) {
		raw[y * (width + 1)] = 0;
		const my = Math.floor(y / scale) - MARGIN;
		for (let x = 0; x < width; x++) {
			const mx = Math.floor(x / scale) - MARGIN;
			const dark = mx >= 0 && my >= 0 && mx < modules.size && my < modules.size && modules.get(my, mx) === 1;
			if (dark) raw[y * (width + 1) + 1 + x] = 0;
		}
	}
	const header = new Uint8Array(13);
	const view = new DataView(header.buffer);
	view.setUint32(0, width);
	view.setUint32(4, width);
	header.set([8, 0, 0, 0, 0], 8); // bit depth 8, grayscale, deflate, adaptive filtering, no interlace
	return concat([
		new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk("IHDR", header),
		chunk("IDAT", await deflate(raw)),
		chunk("IEND", new Uint8Array(0)),
	]);
}

async function deflate(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
	// "deflate" is the zlib format (RFC 1950), which is what PNG's IDAT holds.
	const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("deflate"));
	return new Uint8Array(await new Response(stream).arrayBuffer());
}

function chunk(type: string, data: Uint8Array): Uint8Array {
	const out = new Uint8Array(12 + data.length);
	const view = new DataView(out.buffer);
	view.setUint32(0, data.length);
	for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
	out.set(data, 8);
	view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
	return out;
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let offset = 0;
	for (const part of parts) {
		out.set(part, offset);
		offset += part.length;
	}
	return out;
}

let crcTable: Uint32Array | null = null;

function crc32(bytes: Uint8Array): number {
	crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		return c >>> 0;
	});
	let crc = 0xffffffff;
	for (const b of bytes) crc = (crcTable[(crc ^ b) & 0xff] ?? 0) ^ (crc >>> 8);
	return (crc ^ 0xffffffff) >>> 0;
}
