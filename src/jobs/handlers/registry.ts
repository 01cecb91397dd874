import type { BuiltinType } from "../domain";
import { isBuiltinType } from "../domain";
import { httpHandler } from "./http";
import { noopHandler } from "./noop";
import type { JobHandler } from "./types";
import { recordingAdvanceHandler } from "../../recordings/advance-handler";

/** One handler per built-in type of BUILTIN_TYPES (src/jobs/domain.ts); the Record makes it exhaustive. */
const HANDLERS: Record<BuiltinType, JobHandler> = {
	noop: noopHandler,
	http: httpHandler,
	"recording.advance": recordingAdvanceHandler,
};

export function handlerFor(type: string): JobHandler | undefined {
	return isBuiltinType(type) ? HANDLERS[type] : undefined;
}
