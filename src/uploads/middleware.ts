import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../platform/app-env";
import { AppError, errorResponse } from "../platform/errors";
import { TUS_VERSION } from "./domain";

/** Requests of the tus protocol itself; GET (upload info, content) is plain HTTP. */
const TUS_METHODS = new Set(["HEAD", "POST", "PATCH", "DELETE"]);

/**
 * The tus protocol around /api/v1/uploads, in front of authentication (so every answer, 401s
 * included, carries Tus-Resumable): 412 for a request of another protocol version, and 413 for a
 * body over UPLOAD_MAX_PATCH_BYTES by its Content-Length (a streamed body is counted as it arrives,
 * by the upload object). Mounted instead of the JSON body check of the rest of /api.
 */
export function tusProtocol(): MiddlewareHandler<AppEnv> {
	return async function tusProtocolMiddleware(c, next) {
		const refusal = refusalOf(c);
		if (refusal) {
			const res = errorResponse(c, refusal);
			res.headers.set("Tus-Resumable", TUS_VERSION);
			return res;
		}
		await next();
		c.res.headers.set("Tus-Resumable", TUS_VERSION);
	};
}

/** 413 with the limit, for a PATCH (or creation-with-upload POST) body over UPLOAD_MAX_PATCH_BYTES. */
export function tooLarge(maxBytes: number): AppError {
	return new AppError(
		413,
		"payload_too_large",
		`A PATCH body is limited to ${maxBytes} bytes; send the upload in smaller chunks.`,
		{ max_bytes: maxBytes },
	);
}

function refusalOf(c: Context<AppEnv>): AppError | null {
	if (TUS_METHODS.has(c.req.method) && c.req.header("Tus-Resumable") !== TUS_VERSION) {
		return new AppError(
			412,
			"tus_version_unsupported",
			`This server speaks tus ${TUS_VERSION}; send Tus-Resumable: ${TUS_VERSION}.`,
			{ supported: [TUS_VERSION] },
			{ "Tus-Version": TUS_VERSION },
		);
	}
	const maxBytes = Number(c.env.UPLOAD_MAX_PATCH_BYTES);
	const declared = Number(c.req.header("Content-Length") ?? "0");
	if ((c.req.method === "PATCH" || c.req.method === "POST") && declared > maxBytes) return tooLarge(maxBytes);
	return null;
}
