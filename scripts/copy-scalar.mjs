// Copies Scalar's standalone API reference bundle into public/vendor/ for the /docs page, so the
// platform serves it itself (offline, no CDN). Generated and 3.5 MB, so it is not in git: this runs
// before `npm test`, `npm start` and deploys (wrangler.toml [build]), and after `npm ci` (prepare).
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";

const root = path.join(import.meta.dirname, "..");
// Not exported through the package's "exports": the file its CDN builds serve, addressed by path.
const from = path.join(root, "node_modules", "@scalar", "api-reference", "dist", "browser", "standalone.js");
const to = path.join(root, "public", "vendor", "scalar-api-reference.js");

mkdirSync(path.dirname(to), { recursive: true });
copyFileSync(from, to);
