import type { JobHandler } from "./types";

/** Does nothing and succeeds: the cost of the platform itself, for benchmarks. */
export const noopHandler: JobHandler = {
	async run() {
		return { ok: true };
	},
};
