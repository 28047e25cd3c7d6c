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
//   kit.serve(BIN, ARGS)        `BIN serve --port 0 ARGS`: { url, get(PATH), close() } once it prints its address
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
  // An http:// address (a page served by `embvsattn serve`) may also ask its own origin, nothing else.
  async function open(context, name) {
    const page = await context.newPage();
    const problems = [];
    const origin = /^http:/.test(name) ? new URL(name).origin : null;
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('console', (m) => {
      // a 4xx answer of the API is logged by the browser as a failed resource; the page shows it itself
      if (m.type() === 'error' && !(origin && /status of 4\d\d/.test(m.text()))) problems.push('console error: ' + m.text());
    });
    page.on('dialog', (d) => { problems.push('dialog: ' + d.message()); d.dismiss().catch(() => {}); });
    page.on('request', (r) => {
      const u = r.url();
      if (!/^(file|data|blob|about):/.test(u) && !(origin && new URL(u).origin === origin))
        problems.push('network request: ' + u);
    });
    await page.goto(origin ? name : url(name));
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

  // Starts `BIN serve --port 0 ARGS...` and waits for the address it prints: { url, get(path), close() }; get
  // fetches url + path and gives { status, body: the text, json: parsed or null }.
  function serve(bin, args) {
    const { spawn } = require('child_process');
    const http = require('http');
    return new Promise((resolve, reject) => {
      const p = spawn(bin, ['serve', '--port', '0'].concat(args || []), { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '', err = '';
      const timer = setTimeout(() => { p.kill(); reject(new Error('serve did not start in 60 s: ' + err)); }, 60000);
      p.stderr.on('data', (d) => { err += d; });
      p.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited ${code}: ${err.slice(0, 300)}`)); });
      p.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/^(http:\/\/\S+\/)\n/);
        if (!m) return;
        clearTimeout(timer);
        const base = m[1];
        const get = (pth) => new Promise((res, rej) => {
          http.get(base + pth.replace(/^\//, ''), (r) => {
            let body = '';
            r.setEncoding('utf8');
            r.on('data', (c) => { body += c; });
            r.on('end', () => {
              let json = null;
              try { json = JSON.parse(body); } catch (e) { /* not JSON */ }
              res({ status: r.statusCode, body, json });
            });
          }).on('error', rej);
        });
        resolve({
          url: base, get, process: p,
          close: () => new Promise((res) => { p.removeAllListeners('exit'); p.on('exit', res); p.kill('SIGTERM'); }),
        });
      });
    });
  }

  return { check, failed: () => failed, launch, open, noProblems, file, url, readJson, CHROMIUM, stepsMatch, serve };
};
