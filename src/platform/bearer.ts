import { AppError } from "./errors";

/** The token of an `Authorization: Bearer <token>` header; 401 when it is missing or not Bearer. */
export function bearerToken(header: string | undefined): string {
	if (!header) throw new AppError(401, "unauthorized", "Missing credentials: send Authorization: Bearer <token>.");
	const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
	if (!match?.[1]) throw new AppError(401, "unauthorized", "Malformed Authorization header: expected Bearer <token>.");
	return match[1];
}
