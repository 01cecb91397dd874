import { httpHandler } from "./http";
import { noopHandler } from "./noop";
import type { JobHandler } from "./types";

/** Built-in job types, run by the Worker from the jobs queue. Later issues register theirs here. */
const HANDLERS: Record<string, JobHandler> = {
	noop: noopHandler,
	http: httpHandler,
};

export function handlerFor(type: string): JobHandler | undefined {
	return Object.hasOwn(HANDLERS, type) ? HANDLERS[type] : undefined;
}

export function isBuiltinType(type: string): boolean {
	return Object.hasOwn(HANDLERS, type);
}
