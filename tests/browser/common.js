// What the browser tier's scripts share (test.js, map.js, shot.js): Debian's Chromium launched through
// playwright-core with a fresh profile, pages opened with a record of what must not happen, PASS/FAIL lines.
//
//   const kit = require('./common')(DIR);   DIR: where the files under test are (null for shot.js)
//   kit.check(NAME, async fn)   runs fn; prints "PASS browser NAME: what fn returned" or "FAIL browser NAME: why"
//   kit.failed()                how many checks failed
//   kit.launch(options)         { context, close() }: a persistent context on a fresh profile, removed by close
//   kit.open(context, NAME)     the page of DIR/NAME (or of a path), its problems recorded in page.problems
//   kit.noProblems(page)        asserts that no script error, console error, dialog or network request happened
//   kit.file(NAME), kit.url(NAME) (its file:// address), kit.readJson(NAME), kit.CHROMIUM
//   kit.stepsMatch(page, SEC, view, I)  the step panel of section SEC equals view.steps for token I (1e-6)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const assert = require('assert');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

module.exports = function browserKit(dir) {
  let failed = 0;
  async function check(name, fn) {
    try {
      const what = await fn();
      console.log(`PASS browser ${name}${what ? ': ' + what : ''}`);
    } catch (e) {
      failed++;
      const msg = (e && e.message ? e.message : String(e)).split('\n').slice(0, 6).join(' | ');
      console.log(`FAIL browser ${name}: ${msg}`);
    }
  }

  const file = (name) => (dir ? path.join(dir, name) : name);
  const url = (name) => 'file://' + path.resolve(file(name));
  const readJson = (name) => JSON.parse(fs.readFileSync(file(name), 'utf8'));

  // A fresh profile for each browser, removed afterwards.
  async function launch(options) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'embvsattn-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 }, ...options,
    });
    return {
      context,
      async close() {
        await context.close();
        fs.rmSync(profile, { recursive: true, force: true });
      },
    };
  }

  // Opens a file and records what must not happen: script errors, console errors, dialogs, requests off the file.
  async function open(context, name) {
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('console', (m) => { if (m.type() === 'error') problems.push('console error: ' + m.text()); });
    page.on('dialog', (d) => { problems.push('dialog: ' + d.message()); d.dismiss().catch(() => {}); });
    page.on('request', (r) => {
      if (!/^(file|data|blob|about):/.test(r.url())) problems.push('network request: ' + r.url());
    });
    await page.goto(url(name));
    page.problems = problems;
    return page;
  }

  function noProblems(page) {
    assert.deepStrictEqual(page.problems, [], 'problems on the page');
  }

  // The step panel of section SEC (the selected token's computation, page.js) against the document's "steps" of
  // view: every vector's full values (its title) and every score and weight (their titles) within 1e-6 relative;
  // every step of the token is there. Returns how many numbers were compared.
  async function stepsMatch(page, sec, view, i) {
    const got = await page.$$eval(`#${sec} .steps [data-step]`, (els) => els.map((e) => ({
      step: e.dataset.step, row: Number(e.dataset.row), col: e.dataset.col === undefined ? null : Number(e.dataset.col),
      title: e.getAttribute('title'),
    })));
    const st = view.steps;
    const close = (a, b, what) => {
      if (b === null) { assert.ok(a === null || Number.isNaN(a), `${what}: ${a}, the JSON null`); return; }
      assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: page ${a}, JSON ${b}`);
    };
    let count = 0;
    const seen = new Set();
    for (const g of got) {
      seen.add(g.step);
      if (g.col !== null) { // a score or a weight
        const want = (g.step === 'weights' ? view : st)[g.step][g.row][g.col];
        close(want === null && /not allowed/.test(g.title) ? null : Number(g.title), want, `${g.step}[${g.row}][${g.col}]`);
        count++;
        continue;
      }
      const want = st[g.step][g.row];
      const vals = g.title.split(', ').map((x) => (x === 'null' ? null : Number(x)));
      assert.strictEqual(vals.length, want.length, `${g.step}[${g.row}]: ${vals.length} values, JSON ${want.length}`);
      vals.forEach((x, c) => close(x, want[c], `${g.step}[${g.row}][${c}]`));
      count += vals.length;
    }
    const need = ['x', 'q', 'scores', 'weights', 'weighted'].concat(st.positions ? ['positions'] : [])
      .concat(view.head && view.head.kind !== 'identity' ? ['k', 'v'] : []).concat(st.output && view.head &&
        view.head.w_o ? ['output'] : []).concat(st.residual && st.context ? ['context'] : []);
    need.forEach((s) => assert.ok(seen.has(s), `the panel shows ${s}`));
    const rows = got.filter((g) => g.step === 'scores').map((g) => g.row);
    assert.ok(rows.length === view.tokens.length && rows.every((r) => r === i), `the scores of token ${i}`);
    return count;
  }

  return { check, failed: () => failed, launch, open, noProblems, file, url, readJson, CHROMIUM, stepsMatch };
};
