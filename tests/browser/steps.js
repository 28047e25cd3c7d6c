#!/usr/bin/env node
// Browser tier, the step panel (page.js, the document's "steps"): on the pages tests/browser.sh generated, the
// selected token's computation is shown with the numbers of `--format json --why --steps` (within 1e-6 relative:
// every vector's full values in its title, every score and weight), it follows the selected token (click, keyboard),
// a vector opens with Enter to write its values out; compare shows one panel per sentence; a page without the
// serve meta tag has no live controls; with scripts off the page is as before (no panel).
//
//   node tests/browser/steps.js DIR ARTIFACTS
//     DIR  view.html view.json compare.html compare.json alone.html alone.json heads.html
'use strict';
const path = require('path');
const assert = require('assert');

const [dir, artifacts] = process.argv.slice(2);
if (!dir || !artifacts) {
  console.error('usage: node steps.js DIR ARTIFACTS');
  process.exit(2);
}
const kit = require('./common')(dir);
const { check, launch, open, noProblems, readJson, stepsMatch } = kit;

async function main() {
  const watchdog = setTimeout(() => {
    console.log('FAIL browser steps: timed out after 180 s');
    process.exit(1);
  }, 180000);
  const view = readJson('view.json');
  const cmp = readJson('compare.json');
  const alone = readJson('alone.json');
  const b = await launch({ colorScheme: 'light' });
  const page = await open(b.context, 'view.html');
  const n = view.tokens.length;
  await check('steps-static-initial', async () => {
    const sel = await page.$eval('#s0', (e) => Number(e.dataset.selected));
    const count = await stepsMatch(page, 's0', view, sel);
    const live = await page.$$eval('.live, #live-s1, .wordp', (els) => els.length);
    assert.strictEqual(live, 0, 'no live controls without the serve meta tag');
    return `token ${sel}: ${count} numbers equal to --steps (1e-6 relative); no live controls`;
  });
  await check('steps-static-every-token', async () => {
    let count = 0;
    for (let i = 0; i < n; i++) {
      await page.click(`#s0 .strip .tok[data-i="${i}"]`);
      count += await stepsMatch(page, 's0', view, i);
    }
    noProblems(page);
    return `${n} tokens clicked: ${count} numbers, each equal to the JSON's`;
  });
  await check('steps-keyboard', async () => {
    await page.focus('#s0 .strip .tok[aria-pressed="true"]');
    await page.keyboard.press('Home');
    await page.keyboard.press('Enter');
    await stepsMatch(page, 's0', view, 0);
    let on = null;
    for (let i = 0; i < 40 && !on; i++) {
      await page.keyboard.press('Tab');
      on = await page.evaluate(() => {
        const a = document.activeElement;
        return a && a.classList.contains('vec') ? a.dataset.step : null;
      });
    }
    assert.strictEqual(on, 'x', 'Tab reaches the first vector of the panel (x)');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notStrictEqual(outline, 'none', 'focus is visible');
    await page.keyboard.press('Enter');
    const st = await page.evaluate(() => {
      const a = document.activeElement, f = a.nextElementSibling;
      return { exp: a.getAttribute('aria-expanded'), shown: !f.hidden && f.getClientRects().length > 0, text: f.textContent };
    });
    assert.strictEqual(st.exp, 'true');
    assert.ok(st.shown, 'the full values are written out');
    const vals = st.text.replace(/^\[|\]$/g, '').split(', ').map(Number);
    assert.deepStrictEqual(vals, view.steps.x[0], 'the written-out values are x');
    await page.screenshot({ path: path.join(artifacts, 'steps.png'), fullPage: true });
    return `Home, Enter select token 0; Tab reaches x; Enter writes its ${vals.length} values out (steps.png)`;
  });
  await page.close();
  await check('steps-compare', async () => {
    const p = await open(b.context, 'compare.html');
    let count = 0;
    for (let s = 0; s < 2; s++) {
      const sel = await p.$eval(`#s${s}`, (e) => Number(e.dataset.selected));
      count += await stepsMatch(p, `s${s}`, cmp.sentences[s], sel);
    }
    noProblems(p);
    await p.close();
    return `one panel per sentence, ${count} numbers equal to the JSON's`;
  });
  await check('steps-two-heads', async () => {
    const p = await open(b.context, 'heads.html');
    const doc = await p.$eval('#embvsattn-data', (e) => JSON.parse(e.textContent));
    let count = 0;
    for (let s = 0; s < 2; s++) {
      await p.click(`#s${s} .strip .tok[data-i="1"]`);
      count += await stepsMatch(p, `s${s}`, doc.sentences[s], 1);
    }
    const kinds = doc.sentences.map((v) => v.head.kind);
    const ident = await p.$eval('#s0 .steps', (e) => e.textContent.includes('q = k = v'));
    assert.ok(ident, 'the identity head\u2019s panel says q = k = v');
    noProblems(p);
    await p.close();
    return `--heads identity,random:3: a panel per head (${kinds.join(', ')}), ${count} numbers equal to its steps`;
  });
  await check('steps-nothing-to-attend', async () => {
    const p = await open(b.context, 'alone.html');
    await p.click('#s0 .strip .tok[data-i="0"]');
    const count = await stepsMatch(p, 's0', alone, 0);
    const masked = await p.$$eval('#s0 .steps tr.masked', (els) => els.length);
    assert.ok(masked >= alone.tokens.length - 1, `masked keys marked: ${masked}`);
    noProblems(p);
    await p.close();
    return `--causal, token 0: ${masked} keys not allowed shown as such; ${count} numbers`;
  });
  await b.close();
  const nojs = await launch({ javaScriptEnabled: false });
  await check('steps-without-scripts', async () => {
    const p = await open(nojs.context, 'view.html');
    const st = await p.evaluate(() => document.querySelectorAll('.steps, .live').length);
    assert.strictEqual(st, 0);
    await p.close();
    return 'no panel and no controls without scripts: the page as before';
  });
  await nojs.close();
  clearTimeout(watchdog);
}

main().then(() => process.exit(kit.failed() ? 1 : 0), (e) => {
  console.log(`FAIL browser steps: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  process.exit(1);
});
