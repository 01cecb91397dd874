// The API reference at /docs: Scalar's standalone bundle (public/vendor/, served by the platform)
// rendering /api/v1/openapi.json. A file of its own, not an inline script, so a strict CSP
// (script-src 'self') allows it; every option below keeps the page from calling out.
const scalar = globalThis.Scalar;
if (scalar === undefined) {
	document.getElementById("api-reference").textContent =
		"The reference renderer is missing (run `npm run build:docs`); the document is at /api/v1/openapi.json.";
} else {
	scalar.createApiReference("#api-reference", {
		url: "/api/v1/openapi.json",
		// Offline: no web fonts from fonts.scalar.com, no telemetry, no hosted AI agent, and "Try it"
		// requests go straight to this origin rather than through proxy.scalar.com.
		withDefaultFonts: false,
		telemetry: false,
		agent: { disabled: true },
		proxyUrl: "",
		showDeveloperTools: "never",
	});
}
