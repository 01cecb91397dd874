import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../platform/app-env";
import type { SigningSecretRow } from "./db";
import { DEFAULT_OVERLAP_SECONDS, MAX_OVERLAP_SECONDS, listSigningSecrets, rotateSigningSecret } from "./service";
import { validate } from "../../platform/validation";
import { signingSecretDocs } from "./openapi";

const rotateQuery = z
	.object({
		overlap_seconds: z.coerce.number().int().min(0).max(MAX_OVERLAP_SECONDS).default(DEFAULT_OVERLAP_SECONDS),
	})
	.strict();

/** A tenant's signing secrets: list (never the secret) and rotate (the new secret shown once). */
export const signingSecretRoutes = new Hono<AppEnv>()
	.get("/", signingSecretDocs.list, async (c) => {
		const rows = await listSigningSecrets(c.env, c.get("principal").tenantId);
		return c.json({ signing_secrets: rows.map(secretJson) });
	})
	.post("/rotate", signingSecretDocs.rotate, validate("query", rotateQuery), async (c) => {
		const { created, previous } = await rotateSigningSecret(
			c.env,
			c.get("principal").tenantId,
			c.req.valid("query").overlap_seconds,
		);
		return c.json({ ...secretJson(created.row), secret: created.secret, previous: previous.map(secretJson) }, 201);
	});

function secretJson(row: SigningSecretRow) {
	return {
		secret_id: row.id,
		prefix: row.prefix,
		current: row.expires_at === null,
		created_at: new Date(row.created_at).toISOString(),
		expires_at: row.expires_at === null ? null : new Date(row.expires_at).toISOString(),
	};
}
