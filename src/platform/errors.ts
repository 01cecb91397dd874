import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The one JSON error shape of the platform (see docs/errors.md). */
export type ErrorBody = {
	error: { code: string; message: string; details?: unknown };
	request_id: string | null;
};

/** Thrown anywhere in a request; `app.onError` turns it into the JSON error shape. */
export class AppError extends Error {
	constructor(
		readonly status: ContentfulStatusCode,
		readonly code: string,
		message: string,
		readonly details?: unknown,
		readonly headers?: Record<string, string>,
	) {
		super(message);
		this.name = "AppError";
	}
}

/** Error codes for statuses raised by Hono itself or by middleware we did not write. */
const CODES_BY_STATUS: Record<number, string> = {
	400: "bad_request",
	401: "unauthorized",
	403: "forbidden",
	404: "not_found",
	405: "method_not_allowed",
	409: "conflict",
	413: "payload_too_large",
	415: "unsupported_media_type",
	422: "unprocessable_entity",
	429: "rate_limited",
	503: "service_unavailable",
};

export function codeForStatus(status: number): string {
	return CODES_BY_STATUS[status] ?? (status >= 500 ? "internal_error" : "bad_request");
}

export function errorResponse(c: Context, error: AppError): Response {
	const body: ErrorBody = {
		error: {
			code: error.code,
			message: error.message,
			...(error.details === undefined ? {} : { details: error.details }),
		},
		request_id: requestIdOf(c),
	};
	return c.json(body, error.status, error.headers);
}

function requestIdOf(c: Context): string | null {
	const id: unknown = c.get("requestId");
	return typeof id === "string" ? id : null;
}
