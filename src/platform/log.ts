/**
 * The one structured logger: one JSON object per line, which Workers Logs indexes by field.
 * `msg` is a fixed sentence; everything that varies goes in fields.
 */
type Fields = Record<string, unknown>;
type Level = "debug" | "info" | "warn" | "error";

export const log = {
	debug: (msg: string, fields?: Fields) => write("debug", msg, fields),
	info: (msg: string, fields?: Fields) => write("info", msg, fields),
	warn: (msg: string, fields?: Fields) => write("warn", msg, fields),
	error: (msg: string, fields?: Fields) => write("error", msg, fields),
};

/** An error as a log field: its message, never an object that serialises to `{}`. */
export function errorText(error: unknown): string {
	return String(error);
}

function write(level: Level, msg: string, fields: Fields | undefined): void {
	const line = JSON.stringify({ level, msg, ...fields });
	if (level === "error") console.error(line);
	else if (level === "warn") console.warn(line);
	else console.log(line);
}
