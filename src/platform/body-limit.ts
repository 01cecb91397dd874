import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "./app-env";
import { AppError } from "./errors";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;
const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH"]);

export type JsonBodyOptions = {
	/** Paths (exact) whose bodies may reach MAX_BULK_BODY_BYTES instead, e.g. bulk registration. */
	bulkPaths?: readonly string[];
};

/**
 * For requests that carry a body: over MAX_BODY_BYTES → 413 (streamed bodies are counted as they
 * arrive), a non-JSON content type → 415. Malformed JSON is left to the validator (400).
 */
export function jsonBody(options: JsonBodyOptions = {}): MiddlewareHandler<AppEnv> {
	const bulkPaths = new Set(options.bulkPaths ?? []);
	return async function jsonBodyMiddleware(c, next) {
		if (!METHODS_WITH_BODY.has(c.req.method)) return next();
		const hasBody = c.req.header("Content-Length") !== "0" && c.req.raw.body !== null;
		const type = c.req.header("Content-Type");
		if (hasBody && (type === undefined || !JSON_TYPE.test(type))) {
			throw new AppError(
				415,
				"unsupported_media_type",
				`Expected Content-Type: application/json, got ${type ?? "none"}.`,
			);
		}
		const maxSize = Number(bulkPaths.has(c.req.path) ? c.env.MAX_BULK_BODY_BYTES : c.env.MAX_BODY_BYTES);
		return bodyLimit({
			maxSize,
			onError: () => {
				throw new AppError(413, "payload_too_large", `Request bodies are limited to ${maxSize} bytes.`, {
					max_bytes: maxSize,
				});
			},
		})(c, next);
	};
}
