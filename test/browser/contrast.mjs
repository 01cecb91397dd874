// WCAG 2 contrast ratio of two CSS colours as getComputedStyle gives them ("rgb(r, g, b)" or "rgba(...)").

/** @param {string} css */
function channels(css) {
	const m = /rgba?\(([^)]+)\)/.exec(css);
	if (!m) throw new Error(`not an rgb() colour: ${css}`);
	return m[1]
		.split(",")
		.slice(0, 3)
		.map((v) => Number.parseFloat(v) / 255);
}

/** @param {string} css */
function luminance(css) {
	const [r, g, b] = channels(css).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
	return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** @param {string} fg @param {string} bg */
export function contrastRatio(fg, bg) {
	const [a, b] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
	return (a + 0.05) / (b + 0.05);
}
