// The portal in a real browser (Debian's Chromium, driven by playwright-core). Run by
// tests/graph/test_portal_browser.py against a `harborgraph serve` it started; exits non-zero
// on the first failed expectation and prints one JSON line of figures.
//
// Environment: PORTAL_URL (the server's origin), CHROMIUM (the browser's path),
// SCREENSHOTS (a directory), CARRIER_TOKEN (a carrier's token, pasted to sign in),
// CARRIER_BOX (a container of that carrier, with a hold), TRUCKER_BOX (a container the demo
// trucker may see), TERMINAL_SMDG (the demo terminal's SMDG code), LIVE_EVENT (a DCSA event
// of CARRIER_BOX, published by the carrier while its page follows the box); TRUSTED_IDS (a
// JSON list: the server runs only these trusted documents) when it was started with them.
import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import path from "node:path";

const origin = process.env.PORTAL_URL;
const shots = process.env.SCREENSHOTS;
const trusted = process.env.TRUSTED_IDS ? JSON.parse(process.env.TRUSTED_IDS) : null;
const figures = {};

// What the page sends to /graphql (POST bodies and WebSocket subscribe payloads).
function recordOperations(page, sent) {
  page.on("request", (request) => {
    if (request.url() === origin + "/graphql" && request.method() === "POST") sent.push(request.postDataJSON());
  });
  page.on("websocket", (socket) =>
    socket.on("framesent", ({ payload }) => {
      const message = JSON.parse(payload);
      if (message.type === "subscribe") sent.push(message.payload);
    }),
  );
}

// Every operation goes by its id (APQ, Apollo's protocol): a text only beside the id that is
// its SHA-256; with trusted documents, never a text, and only listed ids.
function byIdOnly(sent) {
  assert.ok(sent.length > 0, "the page sent operations");
  for (const body of sent) {
    const id = body.extensions?.persistedQuery?.sha256Hash;
    assert.match(id ?? "", /^[0-9a-f]{64}$/, `${body.operationName} has an id`);
    if (body.query !== undefined) {
      assert.equal(trusted, null, `${body.operationName} went by its id alone`);
      assert.equal(createHash("sha256").update(body.query).digest("hex"), id);
    }
    if (trusted) assert.ok(trusted.includes(id), `${body.operationName}'s id is listed`);
  }
}

// Signs in with a pasted token, or (in development) as a demo partner of `kind`.
async function signedIn(browser, { token, kind }, viewport, label) {
  const context = await browser.newContext({ viewport });
  await context.tracing.start({ screenshots: true, snapshots: true });
  const page = await context.newPage();
  const foreign = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(origin + "/")) foreign.push(request.url());
  });
  const sent = [];
  recordOperations(page, sent);
  await page.goto(origin + "/portal");
  let started;
  if (token) {
    await page.fill("#token", token);
    started = Date.now();
    await page.click("#token-form button");
  } else {
    await page.waitForSelector("#demo-form:not([hidden])");
    await page.selectOption("#demo-kind", kind);
    started = Date.now();
    await page.click("#demo-form button");
  }
  await page.waitForSelector("#schedule table");
  figures[`${label}_first_data_ms`] = Date.now() - started;
  // From the page's own clock: navigation start to every panel's first data (signing in
  // included), as the page marks it.
  await page.waitForFunction(() => performance.getEntriesByName("harborgraph:first-data").length);
  figures[`${label}_first_data_after_load_ms`] = Math.round(
    await page.evaluate(() => performance.getEntriesByName("harborgraph:first-data")[0].startTime),
  );
  await context.tracing.stop({ path: path.join(shots, `${label}-trace.zip`) });
  return { page, foreign, sent };
}

async function lookUp(page, number) {
  await page.fill("#numbers", number);
  await page.click("#lookup-form button");
  await page.waitForSelector(`[data-container="${number}"]`);
  return page.locator(`[data-container="${number}"]`);
}

function fact(card, term) {
  return card.locator(`dt:text-is("${term}") + dd`).innerText();
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] });
try {
  // A carrier looks up its container: availability, holds, last free day, events.
  const carrier = await signedIn(
    browser, { token: process.env.CARRIER_TOKEN }, { width: 1280, height: 900 }, "carrier");
  const box = await lookUp(carrier.page, process.env.CARRIER_BOX);
  assert.match(await fact(box, "Available for pickup"), /^(yes|no)$/);
  assert.notEqual(await fact(box, "Holds"), "none");
  assert.match(await fact(box, "Last free day"), /^(\d{4}-\d{2}-\d{2}|—)$/);
  assert.ok((await box.locator("ol.timeline li").count()) > 0, "the carrier sees events");
  assert.notEqual(await fact(box, "Commodity"), "not shared with you");
  // Live: an event the carrier publishes now appears in the timeline without a reload.
  await carrier.page.waitForSelector('#lookup[data-live="yes"]');
  await new Promise((resolve) => setTimeout(resolve, 500));
  const published = JSON.parse(process.env.LIVE_EVENT);
  const posted = await fetch(origin + "/dcsa/tnt/v2/events", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${process.env.CARRIER_TOKEN}` },
    body: JSON.stringify([published]),
  });
  assert.equal(posted.status, 201, await posted.text());
  const liveStarted = Date.now();
  await box.locator(`li[data-event="${published.eventID}"]`).waitFor({ timeout: 5000 });
  figures.live_event_ms = Date.now() - liveStarted;
  await carrier.page.screenshot({ path: path.join(shots, "carrier.png"), fullPage: true });
  const axe = await new AxeBuilder({ page: carrier.page }).analyze();
  const serious = axe.violations.filter((v) => ["serious", "critical"].includes(v.impact));
  assert.deepEqual(serious.map((v) => v.id), [], "no serious or critical accessibility violation");
  assert.deepEqual(carrier.foreign, [], "every request goes to the app's own origin");
  byIdOnly(carrier.sent);

  // A trucker at 390 px: no commodity, no consignee; the page fits the width.
  const trucker = await signedIn(browser, { kind: "TRUCKER" }, { width: 390, height: 844 }, "trucker");
  const seen = await lookUp(trucker.page, process.env.TRUCKER_BOX);
  assert.equal(await fact(seen, "Commodity"), "not shared with you");
  assert.equal(await fact(seen, "Consignee"), "not shared with you");
  const width = await trucker.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page fits 390 px (it is ${width})`);
  await trucker.page.screenshot({ path: path.join(shots, "trucker-390.png"), fullPage: true });
  assert.deepEqual(trucker.foreign, [], "every request goes to the app's own origin");
  byIdOnly(trucker.sent);
  const token = await trucker.page.evaluate(() => JSON.stringify(localStorage));
  assert.equal(token, "{}", "nothing is kept in localStorage");

  // A terminal sees its own gate turn times (a chart of its gates only).
  const terminal = await signedIn(browser, { kind: "TERMINAL" }, { width: 1280, height: 900 }, "terminal");
  await terminal.page.waitForSelector('[data-chart="turn-times"] .bar');
  const gates = await terminal.page.locator('[data-chart="turn-times"] .bar > span:first-child').allInnerTexts();
  assert.deepEqual([...new Set(gates)], [process.env.TERMINAL_SMDG]);
  await terminal.page.screenshot({ path: path.join(shots, "terminal.png"), fullPage: true });
  const terminalAxe = await new AxeBuilder({ page: terminal.page }).analyze();
  const terminalSerious = terminalAxe.violations.filter((v) => ["serious", "critical"].includes(v.impact));
  assert.deepEqual(terminalSerious.map((v) => v.id), [], "no serious or critical accessibility violation");
  assert.deepEqual(terminal.foreign, [], "every request goes to the app's own origin");
  byIdOnly(terminal.sent);
} finally {
  await browser.close();
}
console.log(JSON.stringify(figures));
