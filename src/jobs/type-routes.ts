import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { upsertJobType } from "./types-db";
import { JOB_TYPE } from "./spec";
import { AppError } from "../platform/errors";
import { isBuiltinType } from "./domain";
import { declaredTypes, forgetDeclaredTypes, toDeclared } from "./declared-types";
import { validate } from "../platform/validation";
import { jobTypeDocs } from "./openapi";
import { TENANT_CAPS, limitExceeded } from "../platform/tenant-caps";

const typeParam = z.object({ type: JOB_TYPE });
const typeBody = z
	.object({
		mode: z.enum(["external", "builtin"]),
		max_concurrency: z.number().int().positive().max(10_000).nullable().optional(),
		rate_per_second: z.number().positive().max(100_000).nullable().optional(),
	})
	.strict();

function typeJson(t: { type: string; mode: string; maxConcurrency: number | null; ratePerSecond: number | null }) {
	return { type: t.type, mode: t.mode, max_concurrency: t.maxConcurrency, rate_per_second: t.ratePerSecond };
}

/** Declared job types: built-ins (limits may be set on them) and a tenant's external types. */
export const jobTypeRoutes = new Hono<AppEnv>()
	.get("/", jobTypeDocs.list, async (c) => {
		return c.json({
			job_types: [...(await declaredTypes(c.env.DB, c.get("principal").tenantId)).values()].map(typeJson),
		});
	})
	.put("/:type", jobTypeDocs.put, validate("param", typeParam), validate("json", typeBody), async (c) => {
		const { tenantId } = c.get("principal");
		const { type } = c.req.valid("param");
		const body = c.req.valid("json");
		const builtin = isBuiltinType(type);
		if (builtin !== (body.mode === "builtin")) {
			throw new AppError(
				400,
				"invalid_mode",
				builtin
					? `'${type}' is a built-in type: use mode "builtin" to set its limits.`
					: `'${type}' is not a built-in type: use mode "external".`,
			);
		}
		const row = await upsertJobType(
			c.env.DB,
			{
				tenant_id: tenantId,
				type,
				mode: body.mode,
				max_concurrency: body.max_concurrency ?? null,
				rate_per_second: body.rate_per_second ?? null,
				updated_at: Date.now(),
			},
			TENANT_CAPS.job_types,
		);
		if (!row) throw limitExceeded("job_types");
		forgetDeclaredTypes(tenantId);
		return c.json(typeJson(toDeclared(row)));
	});
