import type { ValidationTargets } from "hono";
import type { Context } from "hono";
import { uniqueSymbol, validator } from "hono-openapi";
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
	const documented = validator(target, schema, (result) => {
		if (!result.success) throw validationFailed(target, result.error);
	});
	if (target !== "param" && target !== "query") return documented;
	// Path and query parameters (every hot GET has them): the same schema and error, parsed in one
	// step instead of the generic validator's chain of awaits and Content-Type lookup; the route's
	// OpenAPI description is the generic validator's, carried over.
	const direct: typeof documented = async function parameterValidator(c, next) {
		const input = target === "param" ? c.req.param() : queryInput(c);
		const parsed = schema["~standard"].validate(input);
		const result = parsed instanceof Promise ? await parsed : parsed;
		if (result.issues) throw validationFailed(target, result.issues);
		// The schema's output, which is what c.req.valid() hands the handler (an object schema's: an object).
		const output: unknown = result.value;
		if (typeof output !== "object" || output === null) throw new Error(`The ${target} schema must parse to an object`);
		c.req.addValidatedData(target, output);
		await next();
	};
	return Object.assign(direct, { [uniqueSymbol]: Reflect.get(documented, uniqueSymbol) as unknown });
}

/** The query as hono's validator gives it: one value as a string, a repeated name as an array. */
function queryInput(c: Context): Record<string, string | string[]> {
	if (!c.req.url.includes("?")) return {};
	const input: Record<string, string | string[]> = {};
	for (const [name, values] of Object.entries(c.req.queries()))
		input[name] = values.length === 1 ? (values[0] ?? "") : values;
	return input;
}

function validationFailed(target: string, issues: readonly Issue[]): AppError {
	return new AppError(400, "validation_failed", `Invalid ${target}: ${summarize(issues)}`, {
		fields: fieldErrors(issues),
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
