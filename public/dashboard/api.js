// The dashboard's calls to the platform's own API. Credentials travel only in the HttpOnly session
// cookie the login sets (same origin; no secret in JavaScript or localStorage).

/** An API error with the platform's error code. */
export class ApiError extends Error {
	/** @param {number} status @param {string} code @param {string} message */
	constructor(status, code, message) {
		super(message);
		this.status = status;
		this.code = code;
	}
}

/**
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [init]
 * @returns {Promise<any>}
 */
export async function api(path, init = {}) {
	const res = await fetch(path, {
		method: init.method ?? "GET",
		credentials: "same-origin",
		headers: init.body === undefined ? {} : { "Content-Type": "application/json" },
		body: init.body === undefined ? undefined : JSON.stringify(init.body),
	});
	const body = await res.json().catch(() => null);
	if (!res.ok) {
		const error = body?.error ?? {};
		throw new ApiError(res.status, error.code ?? "http_error", error.message ?? `HTTP ${res.status}`);
	}
	return body;
}

/** The current session, or null when there is none (or it expired). */
export async function currentSession() {
	try {
		return await api("/api/v1/dashboard/session");
	} catch (err) {
		if (err instanceof ApiError && err.status === 401) return null;
		throw err;
	}
}

/** @param {string} token */
export function logIn(token) {
	return api("/api/v1/dashboard/session", { method: "POST", body: { token } });
}

export function logOut() {
	return api("/api/v1/dashboard/session", { method: "DELETE" });
}
