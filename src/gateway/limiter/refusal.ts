import { AppError } from "../../platform/errors";
import { seconds } from "./headers";
import type { TakeOutcome } from "./service";

/**
 * The answer to a request the limiter did not admit: 503 `rate_limiter_unavailable` when a
 * fail-closed limiter could not answer, else 429 `rate_limited` naming the violated policies, with
 * the RateLimit headers and Retry-After. One shape for every caller (tenant routes, gateway routes).
 */
export function refusal(outcome: Extract<TakeOutcome, { allowed: false }>, headers: Record<string, string>): AppError {
	if (outcome.unavailable)
		return new AppError(
			503,
			"rate_limiter_unavailable",
			"The rate limiter could not be reached; retry shortly.",
			undefined,
			{
				"Retry-After": "1",
			},
		);
	const retryAfter = outcome.retryAfterMs === null ? null : Math.max(1, seconds(outcome.retryAfterMs));
	return new AppError(
		429,
		"rate_limited",
		`Rate limit exceeded: ${outcome.violated.join(", ")}`,
		{ policies: outcome.violated, retry_after: retryAfter },
		retryAfter === null ? headers : { ...headers, "Retry-After": String(retryAfter) },
	);
}
