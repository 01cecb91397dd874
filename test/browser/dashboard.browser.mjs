// `npm run test:browser`: the dashboard in a real browser (Debian's chromium driven by playwright-core)
// against the Worker started locally by wrangler, as the e2e tests start it, with data seeded through
// the public API (scripts/seed.mjs): log in, non-empty charts, the campaign progress bar and recording
// stage graph (reached by keyboard), a job's detail, a dead letter replayed,
// labels, keyboard focus, a contrast sample, phone width, no CSP violation. Screenshots go to
// test/screenshots/ (gitignored). Without chromium it says why and skips.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { adminToken, startLocalWorker } from "../e2e/local-worker.mjs";
import { seed } from "../../scripts/seed.mjs";
import { contrastRatio } from "./contrast.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = "test/screenshots";
const missing = existsSync(CHROMIUM)
	? null
	: `no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
if (missing) console.log(`# dashboard browser test skipped: ${missing}`);

let worker;
let browser;
let base;
let apiKey;

before(async () => {
	if (missing) return;
	({ worker, base } = await startLocalWorker());
	({ apiKey } = await seed(base, adminToken()));
	browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
	mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
	await browser?.close();
	await worker?.dispose();
});

void test(
	"an operator of a tenant logs in, sees live charts, opens a job and replays a dead letter",
	{ skip: missing ?? false, timeout: 120_000 },
	async (t) => {
		const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
		t.after(() => page.screenshot({ path: `${SHOTS}/last-state.png`, fullPage: true }).catch(() => {}));
		const violations = [];
		page.on("console", (msg) => {
			if (msg.type() === "error") violations.push(msg.text());
		});
		await page.goto(`${base}/`);

		// Labels and keyboard: the token field is reachable by Tab (after the skip link) and shows its focus.
		const field = page.getByLabel("Admin token or API key");
		await field.waitFor({ state: "visible" });
		assert.equal(await page.evaluate(() => document.activeElement?.id), "token", "the login focuses its field");
		await page.keyboard.press("Shift+Tab");
		assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
		await page.keyboard.press("Tab");
		assert.equal(await page.evaluate(() => document.activeElement?.id), "token");
		const outline = await field.evaluate((el) => getComputedStyle(el).outlineStyle);
		assert.notEqual(outline, "none", "a visible focus outline");

		await page.keyboard.type(apiKey);
		await page.keyboard.press("Enter");
		await page.locator("#who").waitFor({ state: "visible" });
		assert.match(await page.locator("#who-text").textContent(), /tenant demo/);

		// The secret is not kept by the page: nothing in storage, the session cookie is HttpOnly.
		const kept = await page.evaluate(
			() =>
				JSON.stringify(Object.entries(localStorage)) + JSON.stringify(Object.entries(sessionStorage)) + document.cookie,
		);
		assert.ok(!kept.includes(apiKey) && !kept.includes("fg_session"), `page storage holds no secret: ${kept}`);

		// Charts drawn from the stream: uPlot canvases with points (seeded jobs, payments and reports).
		for (const id of ["jobs", "payments", "surge", "queues"]) {
			const plot = page.locator(`#chart-${id} .plot`);
			await page.waitForFunction(
				(sel) => Number(document.querySelector(sel)?.getAttribute("data-points")) > 0,
				`#chart-${id} .plot`,
				{ timeout: 30_000 },
			);
			assert.equal(await plot.locator("canvas").count(), 1, `${id} has a canvas`);
			const box = await plot.locator("canvas").boundingBox();
			assert.ok(box && box.width > 100 && box.height > 50, `${id} canvas has a size`);
		}
		await page.waitForFunction(() => document.querySelectorAll("#jobs tbody button").length > 0);
		await page.screenshot({ path: `${SHOTS}/dashboard.png`, fullPage: true });

		// Feature panels from the same stream: the seeded campaign's progress bar, the recording's stage graph.
		const bar = page.getByRole("progressbar", { name: "Demo campaign" }).first();
		await bar.waitFor({ timeout: 30_000 });
		assert.equal(await bar.getAttribute("max"), "100");
		assert.match((await bar.getAttribute("aria-valuetext")) ?? "", /\d+ of 5 sent \(\d+%\)/);
		assert.ok(Number(await bar.getAttribute("aria-valuenow")) >= 0);
		const graph = page.getByRole("group", { name: /^Stage graph of Demo meeting/ }).first();
		await graph.waitFor();
		const columns = graph.locator(":scope > li.stage-column");
		assert.equal(await columns.count(), 3, "audio, video, transcript → highlights → summary");
		assert.equal(await columns.nth(0).locator(".stage").count(), 3);
		assert.equal(await columns.nth(1).locator("[data-stage=highlights]").count(), 1);
		assert.equal(await columns.nth(2).locator("[data-stage=summary]").count(), 1);
		assert.equal(await graph.locator("progress[aria-valuenow]").count(), 5, "a progress bar per stage");
		await page.locator("#webhooks tbody tr", { hasText: "receiver.example" }).first().waitFor();
		await page.locator("#reports tbody tr", { hasText: "job_latency" }).first().waitFor();
		// A keyboard user reaches the campaign and the stage graph by Tab from the top of the content.
		await page.locator("#main").focus();
		const reached = new Set();
		for (let i = 0; i < 80 && !(reached.has("campaign") && reached.has("graph")); i++) {
			await page.keyboard.press("Tab");
			const key = await page.evaluate(() => document.activeElement?.getAttribute("data-focus-key") ?? "");
			if (key.startsWith("campaign-")) reached.add("campaign");
			if (key.startsWith("graph-")) {
				reached.add("graph");
				const style = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
				assert.notEqual(style, "none", "the focused graph shows its outline");
			}
		}
		assert.ok(
			reached.has("campaign") && reached.has("graph"),
			`both reachable by keyboard: ${[...reached].join(", ")}`,
		);
		await graph.screenshot({ path: `${SHOTS}/stage-graph.png` });

		// Contrast sample: body text and table text against their backgrounds, WCAG AA (4.5:1).
		for (const selector of [
			"#status",
			"#jobs td",
			".summary",
			"footer",
			".stage-status",
			".stage-name",
			"#webhooks td",
		]) {
			const { fg, bg } = await page
				.locator(selector)
				.first()
				.evaluate((el) => {
					let node = el;
					let background = "rgba(0, 0, 0, 0)";
					while (node && (background === "rgba(0, 0, 0, 0)" || background === "transparent")) {
						background = getComputedStyle(node).backgroundColor;
						node = node.parentElement;
					}
					return { fg: getComputedStyle(el).color, bg: background };
				});
			const ratio = contrastRatio(fg, bg);
			assert.ok(ratio >= 4.5, `${selector}: contrast ${ratio.toFixed(2)} (${fg} on ${bg})`);
		}

		// A job's detail: its timeline and logs.
		await page.locator("#jobs tbody tr", { hasText: "completed" }).first().locator("button").click();
		const detail = page.locator("#job-detail");
		await detail.waitFor({ state: "visible" });
		assert.match(await detail.locator("h3").textContent(), /^Job job_/);
		assert.equal(await detail.locator(".timeline li").count(), 3, "created, started and finished");
		assert.match(await detail.locator(".job-state").textContent(), /completed/);
		await page.screenshot({ path: `${SHOTS}/job-detail.png`, fullPage: true });

		// A dead letter replayed: it leaves the dead list and its job is queued again.
		const deadRows = page.locator("#dead-jobs tbody tr", { has: page.locator("button", { hasText: "Replay" }) });
		await deadRows.first().waitFor();
		const deadBefore = await deadRows.count();
		const deadId = (await deadRows.first().locator("td").first().textContent()).trim();
		await deadRows
			.first()
			.getByRole("button", { name: `Replay job ${deadId}` })
			.click();
		await page.waitForFunction((id) => !document.querySelector("#dead-jobs tbody")?.textContent?.includes(id), deadId);
		assert.equal(await deadRows.count(), deadBefore - 1);
		assert.match(await page.locator("#status").textContent(), new RegExp(`job ${deadId}: queued again`));
		assert.match(await detail.locator(".job-state").textContent(), /queued/);
		assert.match(await detail.locator(".logs").textContent(), /redriven from dead/);
		await page.screenshot({ path: `${SHOTS}/dead-letter-replayed.png`, fullPage: true });

		// Phone width: one column, no sideways scrolling of the page.
		await page.setViewportSize({ width: 390, height: 844 });
		await page.waitForTimeout(300);
		const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
		assert.ok(overflow <= 1, `no horizontal page scroll at 390 px (${overflow} px over)`);
		await page.screenshot({ path: `${SHOTS}/dashboard-phone.png`, fullPage: true });

		// Logout ends the session: a reload shows the login form again.
		await page.getByRole("button", { name: "Log out" }).click();
		await page.reload();
		await page.getByLabel("Admin token or API key").waitFor({ state: "visible" });

		assert.deepEqual(
			violations.filter((v) => /Content Security Policy|Refused to/i.test(v)),
			[],
			"no CSP violations",
		);
	},
);
