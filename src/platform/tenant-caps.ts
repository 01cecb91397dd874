import { AppError } from "./errors";

/**
 * How many of each resource one tenant may hold. A cap is enforced where the row is written, by a
 * conditional insert (`INSERT … SELECT … WHERE (SELECT COUNT(*) …) < cap`), so concurrent creates
 * cannot overshoot it; the feature answers `limitExceeded(resource)` when the insert wrote nothing.
 * Gateway rules and open event streams are to follow the same pattern with their own entries.
 */
export const TENANT_CAPS = {
	/** Cron schedules (each one a Durable Object alarm firing at most once a minute). */
	schedules: 100,
	/** Declared job types (rows of job_types: external types and built-ins given limits). */
	job_types: 50,
} as const;

export type CappedResource = keyof typeof TENANT_CAPS;

/** 409 `limit_exceeded`, naming the resource and its cap. */
export function limitExceeded(resource: CappedResource): AppError {
	const cap = TENANT_CAPS[resource];
	return new AppError(
		409,
		"limit_exceeded",
		`A tenant may have at most ${cap} ${resource.replace("_", " ")}; delete one before creating another.`,
		{ resource, cap },
	);
}
