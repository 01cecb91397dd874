import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./app-env";

/**
 * The secure headers on every answer of the Worker (the dashboard's static files get the same
 * from public/_headers, since assets are served before the Worker runs). The API answers JSON,
 * never a document to render: its Content-Security-Policy lets nothing load, frame or submit.
 * A route that does answer a document (the shortener's password form) sets its own, narrower
 * exceptions, and those are kept (`overwrite: false`); every other answer gets these.
 */
export function apiSecureHeaders(): MiddlewareHandler<AppEnv> {
	return secureHeaders({
		contentSecurityPolicy: {
			defaultSrc: ["'none'"],
			frameAncestors: ["'none'"],
			baseUri: ["'none'"],
			formAction: ["'none'"],
		},
		xFrameOptions: "DENY",
		xContentTypeOptions: "nosniff",
		referrerPolicy: "no-referrer",
		strictTransportSecurity: "max-age=31536000; includeSubDomains",
		crossOriginOpenerPolicy: "same-origin",
		crossOriginResourcePolicy: "same-origin",
		overwrite: false,
	});
}
