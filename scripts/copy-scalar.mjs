// Copies Scalar's standalone API reference bundle into public/vendor/ for the /docs page, and uPlot for
// the dashboard's charts, so the platform serves them itself (offline, no CDN). Generated and 3.5 MB,
// so not in git: this runs before `npm test`, `npm start` and deploys (wrangler.toml [build]), and
// after `npm ci` (prepare).
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";

const root = path.join(import.meta.dirname, "..");
// Not exported through the package's "exports": the file its CDN builds serve, addressed by path.
const from = path.join(root, "node_modules", "@scalar", "api-reference", "dist", "browser", "standalone.js");
const to = path.join(root, "public", "vendor", "scalar-api-reference.js");

mkdirSync(path.dirname(to), { recursive: true });
copyFileSync(from, to);

// uPlot for the dashboard's charts (public/index.html), from the same place and for the same reason.
const uplot = path.join(root, "node_modules", "uplot", "dist");
copyFileSync(path.join(uplot, "uPlot.esm.js"), path.join(path.dirname(to), "uPlot.esm.js"));
// Its declarations beside the bundle: tsc checks the dashboard's modules against them (public/dashboard/tsconfig.json).
copyFileSync(path.join(uplot, "uPlot.d.ts"), path.join(path.dirname(to), "uPlot.esm.d.ts"));
copyFileSync(path.join(uplot, "uPlot.min.css"), path.join(path.dirname(to), "uPlot.min.css"));
