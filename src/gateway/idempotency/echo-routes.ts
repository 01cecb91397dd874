import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../platform/app-env";
import { idempotency } from "./middleware";
import { validate } from "../../platform/validation";
import { echoDoc } from "../openapi";

const echoBody = z.record(z.string(), z.unknown());

/**
 * The cheapest POST: returns the JSON object it was given with a fresh id. Clients use it to try
 * the Idempotency-Key contract (a replay returns the same id); the idempotency benchmark drives it
 * with and without a key.
 */
export const echoRoutes = new Hono<AppEnv>().post("/", echoDoc, idempotency(), validate("json", echoBody), (c) => {
	return c.json(
		{ echo_id: crypto.randomUUID(), received_at: new Date().toISOString(), body: c.req.valid("json") },
		201,
	);
});
