import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";

/** Locks' answers as schemas and its routes' OpenAPI descriptions. */

const epochMs = z.number().int().describe("Milliseconds since the epoch, on the lock object's clock.");
const leaseSchema = z
	.object({
		name: z.string(),
		owner: z.string(),
		token: z.number().int().describe("Fencing token: strictly increasing with every grant of this lock."),
		mode: z.enum(["exclusive", "shared"]),
		granted_at: epochMs,
		expires_at: epochMs,
	})
	.meta({ id: "LockLease" });

const locks = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Locks"], access: "tenant", ...doc }));

export const lockDocs = {
	acquire: locks({
		summary: "Acquire a lease (optionally waiting in a FIFO queue up to wait_ms)",
		ok: { 200: leaseSchema.extend({ waited_ms: z.number().int() }) },
		errors: [409, 503],
	}),
	renew: locks({ summary: "Extend a held lease", ok: { 200: leaseSchema }, errors: [409, 503] }),
	release: locks({
		summary: "Release a lease (idempotent)",
		ok: { 200: z.object({ name: z.string(), released: z.boolean(), released_at: epochMs.nullable() }) },
		errors: [409, 503],
	}),
	inspect: locks({
		summary: "A lock's holders, expiry, waiters and last token",
		ok: {
			200: z.object({
				name: z.string(),
				mode: z.enum(["exclusive", "shared"]).nullable(),
				holders: z.array(leaseSchema),
				expires_at: epochMs.nullable(),
				waiting: z.number().int(),
				last_token: z.number().int(),
			}),
		},
		errors: [503],
	}),
	writeGuarded: locks({
		summary: "Write a value only if the Fencing-Token is at least the highest seen for the key",
		ok: { 200: z.object({ name: z.string(), key: z.string(), token: z.number().int() }) },
		errors: [409, 503],
	}),
	readGuarded: locks({
		summary: "Read a guarded value and the token that wrote it",
		ok: { 200: z.object({ name: z.string(), key: z.string(), value: z.unknown(), token: z.number().int() }) },
		errors: [404, 503],
	}),
};
