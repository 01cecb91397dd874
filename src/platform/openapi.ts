import { resolver } from "hono-openapi";
import type { DescribeRouteOptions, ResponsesWithResolver } from "hono-openapi";
import { z } from "zod";
import type { ZodType } from "zod";

/**
 * Route descriptions for the OpenAPI document (src/platform/openapi-document.ts, docs/api.md):
 * `describeRoute(apiRoute({...}))` in front of a route's `validate(...)` calls (kept in each feature's
 * `openapi.ts`). The validators give
 * the request side; this gives the tag, the summary, who may call it and its answers.
 */

/** The one error shape (docs/errors.md), the `Error` component every error response refers to. */
export const errorBodySchema = z
	.object({
		error: z.object({
			code: z.string().describe("A stable snake_case code, e.g. validation_failed, not_found, rate_limited."),
			message: z.string().describe("For people; may change."),
			details: z.unknown().optional().describe("Machine-readable details, e.g. { fields: [{ path, message }] }."),
		}),
		request_id: z.string().nullable().describe("The X-Request-Id of the request; quote it when reporting a problem."),
	})
	.meta({ id: "Error", description: "The platform's one JSON error shape." });

/** Who may call a route: its security requirement, and the middleware it runs behind (src/index.ts). */
export type Access =
	/** No credential (health, the document itself). */
	| "none"
	/** `Authorization: Bearer <ADMIN_TOKEN>` (adminAuth). */
	| "admin"
	/** A tenant API key, then the gateway limiter (tenantApi). */
	| "tenant"
	/** A device token or a tenant API key, then the gateway limiter (deviceApi). */
	| "device"
	/** The admin token, or a tenant API key and the limiter (stats). */
	| "admin_or_tenant"
	/** A tenant's end user: an access token from /api/v1/auth (endUserAuth, src/accounts/middleware.ts). */
	| "end_user";

/** Statuses with a shared response in `components.responses` (ERROR_RESPONSES). */
export type ErrorStatus = 400 | 401 | 402 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503;

export type RouteDoc = {
	tags: string[];
	summary: string;
	description?: string;
	access: Access;
	/** Success answers: status → the schema of the JSON body, or a whole response object for other bodies. */
	ok: Partial<Record<200 | 201 | 202 | 204, ZodType | ResponsesWithResolver[string]>>;
	/** Error statuses of the route itself; those of its access (401, 429…) and validation (400) come with it. */
	errors?: ErrorStatus[];
	/** A JSON body the route parses itself, not through validate() (e.g. the telemetry ingest parser). */
	body?: ZodType;
	/** The route rejects a request without an Idempotency-Key (otherwise it is optional on guarded POSTs). */
	idempotencyRequired?: boolean;
};

/** Component names of the shared error responses (src/platform/openapi-document.ts defines them). */
export const ERROR_RESPONSES: Record<ErrorStatus, { name: string; description: string }> = {
	400: { name: "BadRequest", description: "Invalid request: `validation_failed` names every offending field." },
	401: { name: "Unauthorized", description: "Missing, malformed, unknown or revoked credential." },
	402: { name: "PaymentRequired", description: "The card was declined (`card_declined`)." },
	403: {
		name: "Forbidden",
		description: "The credential may not act on this resource (a device token for another device).",
	},
	404: { name: "NotFound", description: "No such resource for this caller." },
	409: { name: "Conflict", description: "The resource's state does not allow this now." },
	413: { name: "PayloadTooLarge", description: "The body is over MAX_BODY_BYTES (`payload_too_large`)." },
	415: { name: "UnsupportedMediaType", description: "The body is not `application/json`." },
	422: { name: "UnprocessableEntity", description: "Well-formed but not processable." },
	429: { name: "RateLimited", description: "A gateway limit was exceeded; retry after `Retry-After` seconds." },
	500: { name: "InternalError", description: "Something went wrong on our side; quote the request id." },
	503: {
		name: "ServiceUnavailable",
		description: "A dependency is unavailable (e.g. a fail-closed limiter); retry shortly.",
	},
};

const SECURITY: Record<Access, Record<string, string[]>[]> = {
	none: [],
	admin: [{ adminToken: [] }],
	tenant: [{ apiKey: [] }],
	device: [{ deviceToken: [] }, { apiKey: [] }],
	admin_or_tenant: [{ adminToken: [] }, { apiKey: [] }],
	end_user: [{ endUserToken: [] }],
};

const ACCESS_ERRORS: Record<Access, ErrorStatus[]> = {
	none: [],
	admin: [401],
	tenant: [401, 429, 503],
	device: [401, 403, 429, 503],
	admin_or_tenant: [401, 429, 503],
	end_user: [401],
};

/** The describeRoute() options of one route: security, shared error responses, rate-limit headers. */
export function apiRoute(doc: RouteDoc): DescribeRouteOptions {
	const limited = doc.access !== "none" && doc.access !== "admin" && doc.access !== "end_user";
	const responses: ResponsesWithResolver = {};
	for (const [status, answer] of Object.entries(doc.ok)) {
		if (answer === undefined) continue;
		const response = isZod(answer)
			? { description: "Success.", content: { "application/json": { schema: resolver(answer, OUTPUT) } } }
			: answer;
		responses[status] = limited && !("$ref" in response) ? { ...response, headers: RATE_LIMIT_HEADERS } : response;
	}
	for (const status of [...ACCESS_ERRORS[doc.access], ...(doc.errors ?? [])].sort((a, b) => a - b)) {
		responses[String(status)] = { $ref: `#/components/responses/${ERROR_RESPONSES[status].name}` };
	}
	return {
		tags: doc.tags,
		summary: doc.summary,
		...(doc.description === undefined ? {} : { description: doc.description }),
		security: SECURITY[doc.access],
		responses,
		...(doc.idempotencyRequired ? { parameters: [{ $ref: "#/components/parameters/IdempotencyKeyRequired" }] } : {}),
		...(doc.body
			? { requestBody: { required: true, content: { "application/json": { schema: resolver(doc.body) } } } }
			: {}),
	};
}

/** A success body's schema as the handler produces it (zod's output side: defaults applied, transforms run). */
export function responseSchema(schema: ZodType) {
	return resolver(schema, OUTPUT);
}

const OUTPUT = { options: { io: "output" } };

const RATE_LIMIT_HEADERS = {
	RateLimit: { $ref: "#/components/headers/RateLimit" },
	"RateLimit-Policy": { $ref: "#/components/headers/RateLimitPolicy" },
};

function isZod(value: ZodType | ResponsesWithResolver[string]): value is ZodType {
	return "~standard" in value;
}
