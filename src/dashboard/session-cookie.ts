import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { sha256Hex } from "../platform/crypto";
import type { SessionRow } from "./session-db";
import { findLiveSession } from "./session-db";
import { isSameOrigin, SESSION_COOKIE } from "./domain";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The dashboard session a request carries in its cookie (used only when it sends no Authorization
 * header), or null without one. A cookie that names no live session is a 401, and a changing
 * request must come from this origin (403): the cookie is sent automatically, a header is not.
 */
export async function dashboardSession(c: Context<AppEnv>): Promise<SessionRow | null> {
	const token = getCookie(c, SESSION_COOKIE);
	if (!token) return null;
	if (!SAFE_METHODS.has(c.req.method) && !isSameOrigin(c.req.header("Origin"), c.req.url))
		throw new AppError(403, "forbidden", "A request authenticated by a dashboard session must come from its origin.");
	const row = await findLiveSession(c.env.DB, await sha256Hex(token), Date.now());
	if (!row) throw new AppError(401, "unauthorized", "The dashboard session has expired or was closed; log in again.");
	return row;
}
