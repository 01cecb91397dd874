import type { ValidationTargets } from "hono";
import { validator } from "hono-openapi";
import type { ZodType } from "zod";
import { AppError } from "./errors";

export type FieldError = { path: string; message: string };

/**
 * A request validator with the platform's error shape: a failed parse becomes 400
 * `validation_failed` with one entry per offending field. hono-openapi's `validator` (a Standard
 * Schema validator) also records the schema on the route, so the OpenAPI document describes every
 * validated body, query, path parameter and header from this one call (see docs/api.md).
 */
export function validate<Target extends keyof ValidationTargets, Schema extends ZodType>(
	target: Target,
	schema: Schema,
) {
	return validator(target, schema, (result) => {
		if (!result.success) {
			throw new AppError(400, "validation_failed", `Invalid ${target}: ${summarize(result.error)}`, {
				fields: fieldErrors(result.error),
			});
		}
	});
}

/** A Standard Schema issue: zod's paths hold plain keys, other libraries may wrap them as `{ key }`. */
type Issue = {
	readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
	message: string;
};

export function fieldErrors(issues: readonly Issue[]): FieldError[] {
	return issues.map((issue) => ({
		path: (issue.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join(".") || "(root)",
		message: issue.message,
	}));
}

function summarize(issues: readonly Issue[]): string {
	const first = fieldErrors(issues.slice(0, 3)).map((f) => `${f.path}: ${f.message}`);
	return first.join("; ") + (issues.length > 3 ? ` (and ${issues.length - 3} more)` : "");
}
