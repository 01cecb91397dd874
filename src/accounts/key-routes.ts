import { Hono } from "hono";
import { adminAuth } from "../gateway/tenants/admin-auth";
import type { AppEnv } from "../platform/app-env";
import { publishedKeys, rotateSigningKey } from "./keys";
import { log } from "./../platform/log";
import { accountDocs } from "./openapi";

/** Relying parties cache the JWKS this long; jose's createRemoteJWKSet refetches on an unknown kid. */
const JWKS_MAX_AGE_SECONDS = 300;

/** GET /.well-known/jwks.json: public, cacheable. */
export const jwksRoutes = new Hono<AppEnv>().get("/jwks.json", accountDocs.jwks, async (c) => {
	c.header("Cache-Control", `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
	return c.json({ keys: await publishedKeys(c.env) });
});

/** POST /api/v1/auth/keys/rotate (admin token): a new current key at once. */
export const keyRoutes = new Hono<AppEnv>().post("/rotate", accountDocs.rotateKey, adminAuth(), async (c) => {
	const kid = await rotateSigningKey(c.env);
	log.info("access-token signing key rotated (admin)", { kid });
	return c.json({ kid });
});
