import Mustache from "mustache";

/**
 * Campaign templates (mustache: logic-less, no eval, so it runs in Workers): `{{first_name}}`,
 * `{{last_name}}`, `{{email}}`, `{{unsubscribe_url}}`. HTML bodies are HTML-escaped (`{{x}}`
 * escapes, `{{{x}}}` does not); text bodies are rendered plain.
 */

export type TemplateVars = { first_name: string; last_name: string; email: string; unsubscribe_url: string };

/** A parse error message, or null when `template` is valid mustache. */
export function templateError(template: string): string | null {
	try {
		Mustache.parse(template);
		return null;
	} catch (err) {
		return err instanceof Error ? err.message : "invalid template";
	}
}

export function renderHtml(template: string, vars: TemplateVars): string {
	return Mustache.render(template, vars);
}

export function renderText(template: string, vars: TemplateVars): string {
	return Mustache.render(template, vars, undefined, { escape: (value: unknown) => String(value) });
}
