import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../../platform/openapi";
import type { RouteDoc } from "../../platform/openapi";

/** Signing secrets' answers as schemas and their routes' OpenAPI descriptions. */

const secretSchema = z
	.object({
		secret_id: z.string(),
		prefix: z.string().describe("The first characters of the secret, to tell secrets apart."),
		current: z.boolean(),
		created_at: z.iso.datetime(),
		expires_at: z.iso.datetime().nullable().describe("When a rotated-out secret stops signing."),
	})
	.meta({ id: "SigningSecret" });

const secrets = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Signing secrets"], access: "tenant", ...doc }));

export const signingSecretDocs = {
	list: secrets({
		summary: "The tenant's signing secrets (never the secret itself)",
		ok: { 200: z.object({ signing_secrets: z.array(secretSchema) }) },
	}),
	rotate: secrets({
		summary: "Rotate: a new whsec_ secret, shown once; the old ones keep signing for overlap_seconds",
		ok: { 201: secretSchema.extend({ secret: z.string(), previous: z.array(secretSchema) }) },
	}),
};
