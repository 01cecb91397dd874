import type { Context } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { recordClick, pendingClicks } from "./click-sender";
import { takeClickGrant } from "./click-grant";
import { countryCode, deviceClass, referrerHost } from "./clicks";
import type { LinkRow } from "./db";
import type { LinkState } from "./domain";
import { CUSTOM_SLUG_PATTERN, linkState, utcDay } from "./domain";
import { linkDocs } from "./openapi";
import { PASSWORD_FORM_HEADERS, passwordFormHtml } from "./password-form";
import { addSentClicks, limitPasswordAttempts, limitRedirect, passwordOpens, resolveLink } from "./service";

/** Any path segment: a slug that could never exist is a 404 like an unknown one, not a 400. */
const redirectParams = z.object({ slug: z.string().max(200) });
const redirectQuery = z.object({ preview: z.enum(["true", "false"]).optional() });
const passwordForm = z.object({ password: z.string().max(128) });
/** The password form is one field of <= 128 characters: a few hundred bytes, urlencoded. */
const FORM_MAX_BYTES = 2048;
const formLimit = bodyLimit({
	maxSize: FORM_MAX_BYTES,
	onError: () => {
		throw new AppError(413, "payload_too_large", `The password form is limited to ${FORM_MAX_BYTES} bytes.`, {
			max_bytes: FORM_MAX_BYTES,
		});
	},
});

/** The public redirect: no credential; limited per client IP and per link. */
export const redirectRoutes = new Hono<AppEnv>()
	.get("/:slug", linkDocs.redirect, validate("param", redirectParams), validate("query", redirectQuery), async (c) => {
		const { slug } = c.req.valid("param");
		if (!CUSTOM_SLUG_PATTERN.test(slug)) throw notFound(slug);
		await limitRedirect(c.env.RATE_LIMITER, c.executionCtx, clientIp(c), slug);
		const link = await liveLink(c, slug);
		// A protected link shows its form and says nothing about its destination, even to ?preview.
		if (link.password_hash !== null) return c.body(passwordFormHtml(slug, false), 200, PASSWORD_FORM_HEADERS);
		if (c.req.valid("query").preview === "true") return c.json({ slug, url: link.url, expires_at: link.expires_at });
		await requireGrant(c, link);
		countClick(c, slug);
		const permanent = link.permanent === 1;
		c.header("Cache-Control", permanent ? "public, max-age=3600" : "no-store");
		return c.redirect(link.url, permanent ? 301 : 302);
	})
	.post(
		"/:slug",
		linkDocs.unlock,
		formLimit,
		validate("param", redirectParams),
		validate("form", passwordForm),
		async (c) => {
			const { slug } = c.req.valid("param");
			if (!CUSTOM_SLUG_PATTERN.test(slug)) throw notFound(slug);
			await limitPasswordAttempts(c.env.RATE_LIMITER, clientIp(c), slug);
			const link = await liveLink(c, slug);
			// A link whose protection was removed while the form was open simply redirects.
			if (link.password_hash !== null && !passwordOpens(link, c.req.valid("form").password))
				return c.body(passwordFormHtml(slug, true), 401, PASSWORD_FORM_HEADERS);
			// Only a successful unlock takes a grant of a capped link (and counts a click).
			await requireGrant(c, link);
			countClick(c, slug);
			// 303: the browser follows with a GET; never cached, whatever `permanent` says (the answer depends on the password).
			c.header("Cache-Control", "no-store");
			return c.redirect(link.url, 303);
		},
	);

/** The link behind a slug if it still redirects: 404 unknown, 410 deleted, expired or at max_clicks. */
async function liveLink(c: Context<AppEnv>, slug: string): Promise<LinkRow> {
	const link = await resolveLink(c.env.DB, c.executionCtx, slug);
	if (!link) throw notFound(slug);
	const facts = {
		expiresAt: link.expires_at,
		maxClicks: link.max_clicks,
		clicks: link.clicks,
		deletedAt: link.deleted_at,
	};
	// For a capped link this is only a quick refusal: its clicks here are never above its grants.
	const state = linkState(facts, Date.now(), pendingClicks(slug));
	if (state !== "active") throw gone(slug, state);
	return link;
}

/**
 * A capped link redirects only on a grant from its counter (410 when its clicks are used up, 503
 * when the counter cannot be reached); an uncapped link goes on without any object call.
 */
async function requireGrant(c: Context<AppEnv>, link: LinkRow): Promise<void> {
	if (link.max_clicks === null) return;
	if (!(await takeClickGrant(c.env.LINK_CAP_COUNTER, c.env.DB, link, link.max_clicks)))
		throw gone(link.slug, "exhausted");
}

/** Buffers the click for floodgate-clicks; nothing awaited on the redirect's path. */
function countClick(c: Context<AppEnv>, slug: string): void {
	const click = {
		slug,
		day: utcDay(Date.now()),
		country: countryCode(c.req.raw.cf?.country),
		referrer: referrerHost(c.req.header("Referer")),
		device: deviceClass(c.req.header("User-Agent")),
	};
	recordClick(c.env.CLICKS_QUEUE, c.executionCtx, click, addSentClicks);
}

function clientIp(c: Context<AppEnv>): string {
	return c.req.header("CF-Connecting-IP") ?? "unknown";
}

function gone(slug: string, state: LinkState): AppError {
	return new AppError(410, "link_gone", `Short link '${slug}' is ${state}.`, { state });
}

function notFound(slug: string): AppError {
	return new AppError(404, "not_found", `No short link '${slug}'.`);
}
