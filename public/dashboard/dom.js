// Small DOM helpers: every value is written as text (never HTML), so nothing from the API can inject markup.

/** @param {string} id @returns {HTMLElement} */
export function byId(id) {
	const node = document.getElementById(id);
	if (!node) throw new Error(`#${id} is missing`);
	return node;
}

/** The first element under `root` matching `selector` (a page without it is a bug). @returns {HTMLElement} */
export function find(/** @type {ParentNode} */ root, /** @type {string} */ selector) {
	const node = root.querySelector(selector);
	if (!(node instanceof HTMLElement)) throw new Error(`${selector} is missing`);
	return node;
}

/** The body of the table with this id. */
export function tbodyOf(/** @type {string} */ id) {
	return find(byId(id), "tbody");
}

/** The value of an input or select. */
export function valueOf(/** @type {string} */ id) {
	const node = byId(id);
	if (node instanceof HTMLInputElement || node instanceof HTMLSelectElement) return node.value;
	throw new Error(`#${id} is not a form field`);
}

/**
 * @param {string} tag
 * @param {{ text?: string | number | null, className?: string, attrs?: Record<string, string> }} [opts]
 * @param {(Node | string)[]} [children]
 */
export function el(tag, opts = {}, children = []) {
	const node = document.createElement(tag);
	if (opts.text !== undefined && opts.text !== null) node.textContent = String(opts.text);
	if (opts.className) node.className = opts.className;
	for (const [k, v] of Object.entries(opts.attrs ?? {})) node.setAttribute(k, v);
	for (const child of children) node.append(child);
	return node;
}

/** Replaces a table body's rows; an empty list shows one explanatory row. */
export function fillRows(/** @type {HTMLElement} */ tbody, /** @type {HTMLElement[]} */ rows, empty = "nothing yet") {
	const columns = tbody.closest("table")?.querySelectorAll("thead th").length ?? 1;
	tbody.replaceChildren(
		...(rows.length ? rows : [el("tr", {}, [el("td", { text: empty, attrs: { colspan: String(columns) } })])]),
	);
}

/** @param {(string | number | null | undefined | Node)[]} cells */
export function row(cells) {
	return el(
		"tr",
		{},
		cells.map((c) => (c instanceof Node ? el("td", {}, [c]) : el("td", { text: c ?? "–" }))),
	);
}

/** @param {string | number | null | undefined} value */
export function time(value) {
	if (value === null || value === undefined) return "–";
	const d = new Date(value);
	return Number.isNaN(d.getTime()) ? "–" : d.toLocaleString();
}

/** @param {string} text @param {() => void | Promise<void>} onClick @param {string} [label] */
export function button(text, onClick, label) {
	const b = el("button", { text, attrs: { type: "button", ...(label ? { "aria-label": label } : {}) } });
	b.addEventListener("click", () => void onClick());
	return b;
}

/** `0.4567` → `"46%"`. */
export function percent(/** @type {number} */ fraction) {
	return `${Math.round(fraction * 100)}%`;
}

/** A native progress bar (0–1) named by `labelId`, with its value also as text for assistive tech. */
export function progressBar(/** @type {number} */ value, /** @type {string} */ labelId, /** @type {string} */ text) {
	const now = Math.round(value * 100);
	return el("progress", {
		text: `${now}%`,
		attrs: {
			max: "100",
			value: String(now),
			"aria-labelledby": labelId,
			"aria-valuemin": "0",
			"aria-valuemax": "100",
			"aria-valuenow": String(now),
			"aria-valuetext": text,
		},
	});
}
