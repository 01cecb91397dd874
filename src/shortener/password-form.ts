/**
 * The page a visitor of a password-protected link sees: a small HTML form that posts `password`
 * back to /s/{slug}. No script, no external resource; its own Content-Security-Policy allows only
 * its inline style and a form posted to this origin. Never cached (the answer depends on the guess).
 */

export const PASSWORD_FORM_HEADERS: Record<string, string> = {
	"Content-Type": "text/html; charset=utf-8",
	"Cache-Control": "no-store",
	"Content-Security-Policy":
		"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	"Referrer-Policy": "no-referrer",
	"X-Frame-Options": "DENY",
	"X-Content-Type-Options": "nosniff",
};

export function passwordFormHtml(slug: string, wrong: boolean): string {
	const action = `/s/${encodeURIComponent(slug)}`;
	const error = wrong ? `<p class="error" role="alert">That password is not right. Try again.</p>` : "";
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Protected link</title>
<style>
body{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem;color:#1b1b1f}
input,button{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;margin-top:.5rem}
.error{color:#b00020}
</style>
</head>
<body>
<h1>This link is protected</h1>
${error}
<form method="post" action="${escapeHtml(action)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="off" required autofocus maxlength="128">
<button type="submit">Continue</button>
</form>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
