import type { Hono } from "hono";
import type { AppEnv } from "./app-env";

type RoutePattern = { regex: RegExp; method: string };

/**
 * The methods the app serves for a path, or an empty list when no route matches it at all:
 * tells a 405 (path known, method not) from a 404.
 */
export function allowedMethods(app: Hono<AppEnv>, path: string): string[] {
	const methods = new Set<string>();
	for (const route of patternsOf(app)) {
		if (route.method !== "ALL" && route.regex.test(path)) methods.add(route.method);
	}
	if (methods.has("GET")) methods.add("HEAD");
	return [...methods].sort();
}

const cache = new WeakMap<Hono<AppEnv>, RoutePattern[]>();

function patternsOf(app: Hono<AppEnv>): RoutePattern[] {
	let patterns = cache.get(app);
	if (!patterns) {
		patterns = app.routes.map((r) => ({ method: r.method, regex: toRegex(r.path) }));
		cache.set(app, patterns);
	}
	return patterns;
}

function toRegex(path: string): RegExp {
	const source = path
		.split("/")
		.map((part) => (part.startsWith(":") ? "[^/]+" : part === "*" ? ".*" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
		.join("/");
	return new RegExp(`^${source}/?$`);
}
