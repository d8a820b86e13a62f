// Shows Anki-rendered card sides in headless Chromium the way Anki's clients do, and reports what a
// student sees: tests/test_mcq_browser.py writes the plan (JSON, argv[2]) and asserts on the report
// (JSON on stdout). Clients: "desktop" (Anki desktop and AnkiMobile: the back replaces the front in
// the same page, scripts re-run as Anki's setInnerHTML does) and "fresh" (AnkiDroid: the back is a
// new page of the same origin). Everything is served from http://examdeck.test/ by a route: no network.
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const ORIGIN = "http://examdeck.test";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];

function page(body, night) {
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${plan.css}</style>
<script>${plan.mathjaxConfig}</script>
<script id="MathJax-script" src="/mathjax/tex-chtml-full.js"></script>
</head><body class="card card1${night ? " nightMode night_mode" : ""}"><div id="qa">${body}</div></body></html>`;
}

// Anki's reviewer (ts/reviewer): replace #qa's HTML, re-create each script so that it runs, typeset.
const REVIEWER_JS = `
window.showSide = async function (html) {
  const qa = document.getElementById("qa");
  qa.innerHTML = html;
  for (const old of Array.from(qa.querySelectorAll("script"))) {
    const fresh = document.createElement("script");
    for (const attr of Array.from(old.attributes)) fresh.setAttribute(attr.name, attr.value);
    fresh.text = old.text;
    old.replaceWith(fresh);
  }
  await MathJax.startup.promise;
  await MathJax.typesetPromise([qa]);
};`;

// What the student sees of the card in #qa.
function observe() {
  const root = document.querySelector("#qa .examdeck");
  const items = Array.from(root.querySelectorAll("ol.mcq-choices > li"));
  const buttons = Array.from(root.querySelectorAll(".tf-choices button"));
  const verdict = root.querySelector(".mcq-verdict");
  const box = root.querySelector(".tf-choices");
  return {
    side: root.classList.contains("front") ? "front" : "back",
    js: root.classList.contains("js"),
    order: items.map((li) => li.getAttribute("data-n")),
    checked: items.map((li) => li.getAttribute("aria-checked")),
    roles: items.map((li) => li.getAttribute("role")),
    classes: items.map((li) => li.className),
    marks: items.map((li) => (li.querySelector(".mcq-mark") || {}).textContent || ""),
    backgrounds: items.map((li) => getComputedStyle(li).backgroundColor),
    after: items.map((li) => getComputedStyle(li, "::after").content),
    verdict: verdict && !verdict.hidden ? verdict.textContent : null,
    verdictClass: verdict ? verdict.className : null,
    letters: Array.from(root.querySelectorAll(".mcq-letter")).map((s) => [s.getAttribute("data-n"), s.textContent]),
    tfShown: box ? getComputedStyle(box).display !== "none" : null,
    tf: buttons.map((b) => ({ value: b.getAttribute("data-value"), checked: b.getAttribute("aria-checked"), classes: b.className })),
    hasCorrectClass: !!root.querySelector(".correct"),
    hint: (root.querySelector(".mcq-hint") || {}).textContent || null,
    typeset: document.querySelectorAll("#qa mjx-container").length,
    mathErrors: document.querySelectorAll("#qa mjx-merror").length,
  };
}

async function pick(p, card, clicks, keys) {
  for (const index of clicks || []) {
    if (card.type === "truefalse") await p.click(`#qa .tf-choices button:nth-child(${index + 1})`);
    else await p.click(`#qa ol.mcq-choices > li:nth-child(${index + 1})`);
  }
  for (const key of keys || []) await p.keyboard.press(key);
}

async function main() {
  const browser = await chromium.launch({ executablePath: plan.chromium, args: FLAGS });
  const errors = [];
  const pages = new Map();
  async function context(options) {
    const ctx = await browser.newContext(options);
    await ctx.route(`${ORIGIN}/**`, (route) => {
      const url = new URL(route.request().url());
      if (url.pathname.startsWith("/mathjax/")) {
        const file = path.join(plan.mathjaxDir, url.pathname.slice("/mathjax/".length));
        if (fs.existsSync(file)) return route.fulfill({ path: file });
        return route.fulfill({ status: 404, body: "" });
      }
      if (pages.has(url.pathname)) return route.fulfill({ body: pages.get(url.pathname), contentType: "text/html" });
      const media = plan.mediaDir && path.join(plan.mediaDir, decodeURIComponent(url.pathname.slice(1)));
      if (media && !url.pathname.slice(1).includes("/") && fs.existsSync(media)) return route.fulfill({ path: media });
      return route.fulfill({ status: 404, body: "" });
    });
    return ctx;
  }
  function watch(p, where) {
    p.on("pageerror", (e) => errors.push(`${where}: ${e}`));
    p.on("console", (m) => { if (m.type() === "error") errors.push(`${where}: console: ${m.text()}`); });
  }
  async function ready(p) {
    await p.waitForFunction(() => document.body.dataset.mathjax, null, { timeout: 60000 });
  }
  const report = { cards: {}, errors };
  const phone = { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2 };
  const desktop = { viewport: { width: 1280, height: 900 } };
  for (const card of plan.cards) {
    const out = (report.cards[card.name] = {});
    pages.set(`/${card.name}/front.html`, page(card.front, card.night));
    pages.set(`/${card.name}/back.html`, page(card.back, card.night));
    pages.set(`/reviewer.html`, page("", card.night).replace("</body>", `<script>${REVIEWER_JS}</script></body>`));

    // AnkiDroid: the back is a fresh page (same tab, same origin: sessionStorage carries the pick).
    {
      const ctx = await context(phone);
      const p = await ctx.newPage();
      watch(p, `${card.name} fresh`);
      await p.goto(`${ORIGIN}/${card.name}/front.html`);
      await ready(p);
      await pick(p, card, card.clicks);
      out.freshFront = await p.evaluate(observe);
      if (plan.screenshots) await p.screenshot({ path: path.join(plan.screenshots, `${card.name}-front.png`), fullPage: true });
      await p.goto(`${ORIGIN}/${card.name}/back.html`);
      await ready(p);
      out.freshBack = await p.evaluate(observe);
      if (plan.screenshots) await p.screenshot({ path: path.join(plan.screenshots, `${card.name}-back.png`), fullPage: true });
      // The back shown without its front in this tab (e.g. in the card browser): nothing to grade.
      const q = await ctx.newPage();
      watch(q, `${card.name} back alone`);
      await q.goto(`${ORIGIN}/${card.name}/back.html`);
      await ready(q);
      out.backAlone = await q.evaluate(observe);
      await ctx.close();
    }
    // Anki desktop and AnkiMobile: one page, the back replaces the front; also with sessionStorage refused.
    for (const [label, blockStorage] of [["desktop", false], ["desktopNoStorage", true]]) {
      const ctx = await context(desktop);
      if (blockStorage) {
        await ctx.addInitScript(() => {
          Object.defineProperty(window, "sessionStorage", { get() { throw new DOMException("denied", "SecurityError"); } });
        });
      }
      const p = await ctx.newPage();
      watch(p, `${card.name} ${label}`);
      await p.goto(`${ORIGIN}/reviewer.html`);
      await ready(p);
      await p.evaluate((html) => window.showSide(html), card.front);
      await pick(p, card, card.clicks, label === "desktop" ? card.keys : []);
      out[`${label}Front`] = await p.evaluate(observe);
      await p.evaluate((html) => window.showSide(html), card.back);
      out[`${label}Back`] = await p.evaluate(observe);
      if (label === "desktop") {
        // A dozen reviews of the card: the front's order each time, on the same page.
        out.orders = [];
        for (let i = 0; i < (card.reviews || 0); i++) {
          await p.evaluate((html) => window.showSide(html), card.front);
          out.orders.push((await p.evaluate(observe)).order);
        }
      }
      await ctx.close();
    }
    // Where scripts do not run (AnkiWeb, locked-down clients).
    {
      const ctx = await context({ ...phone, javaScriptEnabled: false });
      const p = await ctx.newPage();
      await p.goto(`${ORIGIN}/${card.name}/front.html`);
      out.noScriptFront = await p.evaluate(observe);
      await p.goto(`${ORIGIN}/${card.name}/back.html`);
      out.noScriptBack = await p.evaluate(observe);
      await ctx.close();
    }
  }
  // Every card of a deck, front then back, in one desktop reviewer page: script errors, picks kept.
  if (plan.sweep && plan.sweep.length) {
    const ctx = await context(phone);
    const p = await ctx.newPage();
    watch(p, "sweep");
    pages.set(`/reviewer.html`, page("", false).replace("</body>", `<script>${REVIEWER_JS}</script></body>`));
    await p.goto(`${ORIGIN}/reviewer.html`);
    await ready(p);
    report.sweep = {};
    for (const card of plan.sweep) {
      await p.evaluate((html) => window.showSide(html), card.front);
      await pick(p, card, card.clicks);
      const front = await p.evaluate(observe);
      await p.evaluate((html) => window.showSide(html), card.back);
      report.sweep[card.name] = { front, back: await p.evaluate(observe) };
    }
    await ctx.close();
  }
  await browser.close();
  process.stdout.write(JSON.stringify(report));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err));
  process.exit(1);
});
