import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { ZodType } from "zod";
import { AppError } from "./errors";

export type FieldError = { path: string; message: string };

/**
 * zValidator with the platform's error shape: a failed parse becomes 400 `validation_failed`
 * with one entry per offending field.
 */
export function validate<Target extends keyof ValidationTargets, Schema extends ZodType>(
	target: Target,
	schema: Schema,
) {
	return zValidator(target, schema, (result) => {
		if (!result.success) {
			throw new AppError(400, "validation_failed", `Invalid ${target}: ${summarize(result.error.issues)}`, {
				fields: fieldErrors(result.error.issues),
			});
		}
	});
}

type Issue = { path: PropertyKey[]; message: string };

export function fieldErrors(issues: readonly Issue[]): FieldError[] {
	return issues.map((issue) => ({ path: issue.path.map(String).join(".") || "(root)", message: issue.message }));
}

function summarize(issues: readonly Issue[]): string {
	const first = fieldErrors(issues.slice(0, 3)).map((f) => `${f.path}: ${f.message}`);
	return first.join("; ") + (issues.length > 3 ? ` (and ${issues.length - 3} more)` : "");
}
