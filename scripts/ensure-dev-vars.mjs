// Creates .dev.vars (local secrets, gitignored) from the committed example when it is missing.
import { copyFileSync, existsSync } from "node:fs";

if (!existsSync(".dev.vars")) {
	copyFileSync(".dev.vars.example", ".dev.vars");
	console.log("Created .dev.vars from .dev.vars.example (local ADMIN_TOKEN).");
}
