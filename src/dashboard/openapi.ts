import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";
import { sessionSchema, snapshotSchema } from "./schema";

/** The dashboard's routes for the OpenAPI document. Each also takes the session cookie it issues. */

const dashboard = (doc: Omit<RouteDoc, "tags">) => describeRoute(apiRoute({ tags: ["Dashboard"], ...doc }));
const COOKIE_NOTE =
	" Without an Authorization header, the `fg_session` cookie from POST /api/v1/dashboard/session is used.";

export const dashboardDocs = {
	login: dashboard({
		summary: "Log in: exchange the admin token or an API key for a one-hour HttpOnly session cookie",
		access: "none",
		ok: { 201: sessionSchema },
		errors: [401, 429],
	}),
	session: dashboard({
		summary: "The current dashboard session (from its cookie)",
		access: "none",
		ok: { 200: sessionSchema },
		errors: [401],
	}),
	logout: dashboard({
		summary: "Log out: the session ends and its cookie is cleared",
		access: "none",
		ok: { 200: z.object({ closed: z.boolean() }) },
		errors: [403],
	}),
	snapshot: dashboard({
		summary: "Everything the dashboard shows, with the last hour per minute",
		description: `Platform figures for the admin token, a tenant's for an API key.${COOKIE_NOTE}`,
		access: "admin_or_tenant",
		ok: { 200: snapshotSchema },
	}),
	stream: dashboard({
		summary: "Server-sent events: a `snapshot` event every 5 s; the stream closes after 60 s (reconnect)",
		description: `Each event's data is a DashboardSnapshot.${COOKIE_NOTE}`,
		access: "admin_or_tenant",
		ok: {
			200: {
				description: "text/event-stream of `snapshot` events.",
				content: { "text/event-stream": { schema: { type: "string" } } },
			},
		},
	}),
};
