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
 * The one untyped boundary (the body as JSON); the typed calls below give it the types generated
 * from the OpenAPI document (client/api-types.ts), so a changed schema fails `npm run typecheck`.
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [init]
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

/** @typedef {import("../../client/api-types").DashboardSnapshot} Snapshot */

/** @returns {Promise<import("../../client/api-types").GetApiV1JobsData>} */
export const listJobs = (/** @type {URLSearchParams} */ query) => api(`/api/v1/jobs?${query}`);
/** @returns {Promise<import("../../client/api-types").GetApiV1JobsByIdData>} */
export const getJob = (/** @type {string} */ id) => api(`/api/v1/jobs/${id}`);
/** @returns {Promise<import("../../client/api-types").GetApiV1JobsByIdLogsData>} */
export const getJobLogs = (/** @type {string} */ id) => api(`/api/v1/jobs/${id}/logs`);
/** @returns {Promise<import("../../client/api-types").GetApiV1DevicesData>} */
export const listDevices = (/** @type {URLSearchParams} */ query) => api(`/api/v1/devices?${query}`);
/** @returns {Promise<import("../../client/api-types").GetApiV1MachinesByMachineIdData>} */
export const getMachine = (/** @type {string} */ id) => api(`/api/v1/machines/${id}`);
/** @returns {Promise<import("../../client/api-types").GetApiV1DevicesByDeviceIdScheduleData>} */
export const getSchedule = (/** @type {string} */ id) => api(`/api/v1/devices/${id}/schedule`);
/** @returns {Promise<import("../../client/api-types").GetApiV1TrucksData>} */
export const listTrucks = () => api("/api/v1/trucks?limit=20");
/** @returns {Promise<import("../../client/api-types").GetApiV1DeadLettersData>} */
export const listTelemetryDeadLetters = () => api("/api/v1/dead-letters?limit=50");

/** The current session, or null when there is none (or it expired). @returns {Promise<import("../../client/api-types").DashboardSession | null>} */
export async function currentSession() {
	try {
		return await api("/api/v1/dashboard/session");
	} catch (err) {
		if (err instanceof ApiError && err.status === 401) return null;
		throw err;
	}
}

/** @param {string} token @returns {Promise<import("../../client/api-types").DashboardSession>} */
export function logIn(token) {
	return api("/api/v1/dashboard/session", { method: "POST", body: { token } });
}

export function logOut() {
	return api("/api/v1/dashboard/session", { method: "DELETE" });
}
