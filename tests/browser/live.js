#!/usr/bin/env node
// Browser tier, the live app: `embvsattn serve --port 0` started here (a free port), its page at / driven in
// headless Chromium and checked against the server's own API answers (which tests of the serve branch check
// against `--format json`): typing a sentence updates the tokens, the heatmap and both neighbour lists; switching
// the head changes the weights; compare mode; clicking a neighbour fills the word panel; the analogy form; an API
// error shown in the page (no dialog); keyboard only; the step panel's numbers equal /api/view?steps=1; requests only
// to the page's own origin. Screenshots into ARTIFACTS.
//
//   node tests/browser/live.js BIN ARTIFACTS      BIN: the embvsattn binary (its default vectors: the GloVe cache)
'use strict';
const path = require('path');
const assert = require('assert');

const [bin, artifacts] = process.argv.slice(2);
if (!bin || !artifacts) {
  console.error('usage: node live.js BIN ARTIFACTS');
  process.exit(2);
}
const kit = require('./common')(null);
const { check, launch, open, noProblems, stepsMatch, serve } = kit;
const q = encodeURIComponent;

// What section SEC of the page shows: chips, heatmap weights (data-weight), the selected token's neighbour words.
async function shown(page, sec) {
  return page.evaluate((sec) => {
    const el = document.getElementById(sec);
    const sel = Number(el.dataset.selected);
    const words = (cls) => Array.from(el.querySelectorAll(`#${sec}-d${sel} table.${cls} tbody tr td:first-child`))
      .filter((td) => !td.classList.contains('muted')).map((td) => td.textContent);
    const cells = Array.from(el.querySelectorAll('.hm-svg rect.cell'));
    const n = Math.round(Math.sqrt(cells.length));
    const w = [];
    cells.forEach((c) => {
      const r = Number(c.dataset.row);
      (w[r] = w[r] || [])[Number(c.dataset.col)] = Number(c.dataset.weight);
    });
    return {
      sentence: el.querySelector('.quote').textContent.slice(1, -1), sel, n,
      chips: Array.from(el.querySelectorAll('.strip .tok .tt')).map((t) => t.textContent),
      weights: w, stat: words('static'), ctx: words('context'),
    };
  }, sec);
}

function sameView(got, doc, what) {
  assert.strictEqual(got.sentence, doc.sentence, `${what}: the sentence`);
  assert.deepStrictEqual(got.chips, doc.tokens.map((t) => t.text), `${what}: the tokens`);
  assert.deepStrictEqual(got.weights, doc.weights, `${what}: the heatmap's weights`);
  const t = doc.tokens[got.sel];
  assert.deepStrictEqual(got.stat, t.static_neighbors.map((h) => h.word), `${what}: static neighbours`);
  assert.deepStrictEqual(got.ctx, (t.context_neighbors || []).map((h) => h.word), `${what}: neighbours in context`);
}

// The parts of the page C draws besides the token panel, after the live app swapped in the server's HTML
// (/api/view?format=html): the movement map, the weights table, the heatmap's legend, each of DOC (section SEC).
async function redrawn(page, sec, doc) {
  const got = await page.evaluate((sec) => {
    const el = document.getElementById(sec);
    const main = document.querySelector('main');
    const map = main.querySelectorAll(':scope > .map-sec');
    const hm = el.querySelector('svg.hm-svg');
    const cells = Array.from(hm.querySelectorAll('rect.cell'));
    const right = Math.max(...cells.map((c) => Number(c.getAttribute('x')) + Number(c.getAttribute('width'))));
    const legend = hm.querySelector('g.legend');
    return {
      maps: map.length, mapHidden: map.length ? map[0].hidden : null,
      sentences: main.querySelectorAll(':scope > .sentences').length,
      stTokens: Array.from(document.querySelectorAll('svg.mm .mm-st[data-tokens]'))
        .map((g) => g.dataset.tokens.split(' ')).flat().sort(),
      cxTokens: Array.from(document.querySelectorAll('svg.mm .mm-cx[data-tokens]'))
        .map((g) => g.dataset.tokens.split(' ')).flat().sort(),
      points: Array.from(document.querySelectorAll('svg.mm .mm-pt[data-pt]')).map((g) => Number(g.dataset.pt)),
      wtHead: Array.from(el.querySelectorAll('table.wt thead th')).slice(1).map((t) => t.textContent),
      wtRows: Array.from(el.querySelectorAll('table.wt tbody tr')).map((r) =>
        [r.querySelector('th').textContent, Array.from(r.querySelectorAll('td')).map((t) => t.textContent)]),
      legend: legend ? Array.from(legend.querySelectorAll('text')).map((t) => t.textContent) : null,
      legendX: legend ? legend.getBBox().x : null, right,
      footer: document.querySelectorAll('body > footer').length,
      data: JSON.parse(document.getElementById('embvsattn-data').textContent).sentence,
    };
  }, sec);
  assert.strictEqual(got.sentences, 1, 'one sentences block');
  assert.strictEqual(got.maps, 1, 'one movement map');
  assert.strictEqual(got.mapHidden, false, 'the movement map is shown');
  const want = (kind) => doc.map.tokens.filter((t) => t[kind] !== null).map((t) => `${t.sentence}:${t.index}`).sort();
  assert.deepStrictEqual(got.stTokens, want('static'), 'the map\u2019s static points are the new tokens');
  assert.deepStrictEqual(got.cxTokens, want('context'), 'the map\u2019s contextual points are the new tokens');
  assert.ok(got.points.length && got.points.every((p) => p < doc.map.points.length), 'the map\u2019s points');
  assert.deepStrictEqual(got.wtHead, doc.tokens.map((t) => t.text), 'the weights table\u2019s columns');
  assert.deepStrictEqual(got.wtRows, doc.tokens.map((t, i) => [t.text, doc.weights[i].map((w) => w.toFixed(3))]),
    'the weights table\u2019s rows');
  assert.ok(got.legend && got.legend.length >= 2, 'the heatmap has its legend');
  assert.ok(got.legendX > got.right, `the legend beside the new heatmap (x ${got.legendX} > ${got.right})`);
  assert.strictEqual(got.footer, 1, 'one footer');
  assert.strictEqual(got.data, doc.sentence, 'the embedded document is the new one');
  return got;
}

// Waits until section SEC shows SENTENCE (the answer to the last request arrived and was drawn).
async function until(page, sec, sentence) {
  await page.waitForFunction(([sec, s]) => {
    const e = document.querySelector(`#${sec} .quote`);
    return e && e.textContent === `\u201c${s}\u201d` && !document.querySelector('.live[aria-busy]');
  }, [sec, sentence], { timeout: 15000 });
}

async function main() {
  const watchdog = setTimeout(() => {
    console.log('FAIL browser live: timed out after 240 s');
    process.exit(1);
  }, 240000);
  let sv;
  try {
    sv = await serve(bin, []);
  } catch (e) {
    console.log(`FAIL browser live-serve: ${e.message.split('\n')[0]}`);
    process.exit(1);
  }
  const b = await launch({ colorScheme: 'light' });
  const page = await open(b.context, sv.url);
  const heads = (await sv.get('/api/heads')).json;
  await check('live-controls', async () => {
    await page.waitForFunction((n) => document.querySelectorAll('#live-head option').length === n,
      heads.heads.length, { timeout: 10000 });
    const st = await page.evaluate(() => ({
      box: !!document.querySelector('.live #live-s1'), words: !!document.querySelector('#wordp'),
      options: Array.from(document.querySelectorAll('#live-head option')).map((o) => o.value),
      head: document.querySelector('#live-head').value, text: document.querySelector('#live-s1').value,
      quote: document.querySelector('#s0 .quote').textContent,
    }));
    assert.ok(st.box && st.words, 'the text box and the word panel');
    assert.deepStrictEqual(st.options, heads.heads.map((h) => h.name), 'the heads of /api/heads');
    assert.strictEqual(st.head, heads.default, 'the default head selected');
    assert.strictEqual(`\u201c${st.text}\u201d`, st.quote, 'the box holds the page\u2019s sentence');
    return `text box with "${st.text}", ${st.options.length} heads (${st.options.join(', ')}), word panel`;
  });
  const s1 = 'the bank raised interest rates';
  await check('live-typing', async () => {
    await page.fill('#live-s1', '');
    await page.type('#live-s1', s1, { delay: 15 }); // faster than the debounce: stale answers must not win
    await until(page, 's0', s1);
    const doc = (await sv.get(`/api/view?s=${q(s1)}`)).json;
    sameView(await shown(page, 's0'), doc, 'typed');
    await page.click('#s0 .strip .tok[data-i="1"]');
    sameView(await shown(page, 's0'), doc, 'token 1');
    // the meaning/position switch: the meaning-only weights of /api/view?why=1 on the cells, then back
    const why = (await sv.get(`/api/view?s=${q(s1)}&why=1`)).json.why;
    await page.check('#s0 .termsw input[value="meaning"]');
    const cells = await page.$$eval('#s0 .hm-svg rect.cell:not(.masked)', (els) => els.map((c) =>
      [Number(c.dataset.row), Number(c.dataset.col), Number(c.getAttribute('fill-opacity'))]));
    cells.forEach(([r, c, o]) => assert.ok(Math.abs(o - why.meaning[r][c]) < 1e-6, `meaning (${r}, ${c}): ${o}`));
    await page.check('#s0 .termsw input[value="weights"]');
    sameView(await shown(page, 's0'), doc, 'back to the weights');
    return `"${s1}": ${doc.tokens.length} tokens, ${doc.tokens.length ** 2} weights and both neighbour lists of ` +
      'the API\u2019s document; its meaning/position switch draws /api/view?why=1';
  });
  await check('live-redrawn', async () => {
    // the sections the page gets from the server's HTML: map, weights table, legend of the new sentence, wired
    const doc = (await sv.get(`/api/view?s=${q(s1)}`)).json;
    const got = await redrawn(page, 's0', doc);
    const pt = await page.$('svg.mm .mm-cx[data-tokens="0:3"]');
    assert.ok(pt, 'a contextual point of token 3');
    await pt.dispatchEvent('mouseenter');
    const shownTok = await page.$eval('#s0 .detail:not([hidden])', (e) => e.id);
    assert.strictEqual(shownTok, 's0-d3', 'hovering the map\u2019s point shows its token');
    await page.$eval('svg.mm', (e) => e.dispatchEvent(new Event('mouseleave')));
    return `"${s1}": the movement map (${got.points.length} points, the new tokens\u2019), the weights table ` +
      `(${got.wtRows.length} rows = the document\u2019s, 3 decimals), the heatmap legend (${got.legend.join(' ')}); ` +
      'a map point hovered shows its token';
  });
  await check('live-steps', async () => {
    const doc = (await sv.get(`/api/view?s=${q(s1)}&steps=1`)).json;
    assert.ok(doc && doc.steps, '/api/view?steps=1 has "steps"');
    let count = 0;
    for (let i = 0; i < doc.tokens.length; i++) {
      await page.click(`#s0 .strip .tok[data-i="${i}"]`);
      count += await stepsMatch(page, 's0', doc, i);
    }
    return `${doc.tokens.length} tokens: ${count} numbers equal to /api/view?steps=1 (1e-6 relative)`;
  });
  await check('live-head', async () => {
    const before = await shown(page, 's0');
    const other = heads.heads.find((h) => h.name !== heads.default && h.name === 'identity') ||
      heads.heads.find((h) => h.name !== heads.default);
    await page.selectOption('#live-head', other.name);
    await page.waitForFunction((w) => {
      const c = document.querySelector('#s0 .hm-svg rect.cell');
      return c && !document.querySelector('.live[aria-busy]') &&
        JSON.stringify(Array.from(document.querySelectorAll('#s0 .hm-svg rect.cell')).map((e) => Number(e.dataset.weight))) !== w;
    }, JSON.stringify(before.weights.flat()), { timeout: 15000 });
    const doc = (await sv.get(`/api/view?s=${q(s1)}&head=${q(other.name)}`)).json;
    const now = await shown(page, 's0');
    sameView(now, doc, `head ${other.name}`);
    assert.notDeepStrictEqual(now.weights, before.weights, 'the weights changed');
    await page.selectOption('#live-head', heads.default);
    await page.waitForFunction((w) => !document.querySelector('.live[aria-busy]') &&
      JSON.stringify(Array.from(document.querySelectorAll('#s0 .hm-svg rect.cell')).map((e) => Number(e.dataset.weight))) === w,
    JSON.stringify(before.weights.flat()), { timeout: 15000 });
    return `${heads.default} \u2192 ${other.name}: the weights of /api/view?head=${other.name}, and back`;
  });
  await check('live-compare', async () => {
    const a = 'I sat on the bank of the river', c = s1;
    await page.check('input[name="live-mode"][value="compare"]');
    await page.fill('#live-s1', a);
    await page.fill('#live-s2', c);
    await until(page, 's1', c);
    await until(page, 's0', a);
    const doc = (await sv.get(`/api/compare?s1=${q(a)}&s2=${q(c)}`)).json;
    for (let s = 0; s < 2; s++) sameView(await shown(page, `s${s}`), doc.sentences[s], `sentence ${s + 1}`);
    const sel = await page.evaluate(() => [0, 1].map((s) => Number(document.getElementById('s' + s).dataset.selected)));
    const rare = doc.shared.reduce((x, y) => (y.row > x.row ? y : x));
    assert.deepStrictEqual(sel, rare.token_index, 'the shared word (the rarest) selected in both');
    // the shared-word table (C's, from /api/compare?format=html): the document's shared words and cosines
    const sh = await page.evaluate(() => ({
      n: document.querySelectorAll('main > .shared-sec').length,
      rows: Array.from(document.querySelectorAll('main > .shared-sec table.sh tbody tr')).map((r) => {
        const b = r.querySelector('button.shared-btn'), v = r.querySelectorAll('td.num');
        return [b.textContent, Number(b.dataset.i1), Number(b.dataset.i2), Number(v[0].dataset.value),
          v[1].dataset.value === '' ? null : Number(v[1].dataset.value)];
      }),
    }));
    assert.strictEqual(sh.n, 1, 'one shared-word table');
    assert.deepStrictEqual(sh.rows, doc.shared.map((x) => [x.word, x.token_index[0], x.token_index[1],
      x.static_cosine, x.context_cosine === undefined ? null : x.context_cosine]), 'its rows');
    const mapTok = await page.$$eval('svg.mm .mm-st[data-tokens]', (els) => els.length);
    assert.ok(mapTok > 0, 'the movement map of the two sentences');
    const other = doc.shared.find((x) => x.word !== rare.word);
    if (other) { // its buttons select the word in both sentences
      await page.click(`main > .shared-sec button.shared-btn[data-i1="${other.token_index[0]}"]`);
      const sel2 = await page.evaluate(() => [0, 1].map((s) => Number(document.getElementById('s' + s).dataset.selected)));
      assert.deepStrictEqual(sel2, other.token_index, `"${other.word}" selected in both`);
    }
    await page.screenshot({ path: path.join(artifacts, 'live-compare.png'), fullPage: true });
    await page.check('input[name="live-mode"][value="view"]');
    await page.fill('#live-s1', s1);
    await until(page, 's0', s1);
    const left = await page.evaluate(() => [document.querySelectorAll('.shared-sec').length,
      document.querySelectorAll('section.sent').length]);
    assert.deepStrictEqual(left, [0, 1], 'back to one sentence: no shared-word table, one section');
    return `two sentences as /api/compare, its shared-word table (${sh.rows.length} rows: ` +
      `${sh.rows.map((r) => r[0]).join(', ')}), the shared word "${rare.word}" selected in both ` +
      '(live-compare.png)';
  });
  await check('live-stale', async () => {
    // the answer to an older request, arriving after a newer one's, is dropped
    const slow = 'the slow river', fast = 'the fast bank';
    let held = 0;
    await page.route((u) => u.pathname === '/api/view', async (route) => {
      if (new URL(route.request().url()).searchParams.get('s') === slow) {
        held++;
        await new Promise((r) => setTimeout(r, 1200));
      }
      await route.continue();
    });
    await page.fill('#live-s1', slow);
    await page.waitForTimeout(400); // its request is out (held back)
    await page.fill('#live-s1', fast);
    await until(page, 's0', fast);
    await page.waitForTimeout(1500); // the held answer has come back by now
    const quote = await page.$eval('#s0 .quote', (e) => e.textContent);
    await page.unroute((u) => u.pathname === '/api/view');
    assert.strictEqual(held, 1, 'the slow request was sent');
    assert.strictEqual(quote, `\u201c${fast}\u201d`, 'the newer sentence stays');
    await page.fill('#live-s1', s1);
    await until(page, 's0', s1);
    return `"${slow}" answered 1.2 s late, after "${fast}": dropped`;
  });
  await check('live-word-panel', async () => {
    const word = await page.$eval('#s0 .detail:not([hidden]) table.context button.nbw', (e) => e.textContent);
    await page.click(`#s0 .detail:not([hidden]) table.context button.nbw >> nth=0`);
    await page.waitForSelector('#wordp .wp-list');
    const doc = (await sv.get(`/api/neighbors?w=${q(word)}&k=10`)).json;
    const got = await page.$$eval('#wordp .wp-list button.nbw', (els) => els.map((e) => e.textContent));
    assert.deepStrictEqual(got, doc.results[0].neighbors.map((h) => h.word));
    const next = got[0];
    await page.click('#wordp .wp-list button.nbw >> nth=0'); // a neighbour of a neighbour
    await page.waitForFunction((w) => (document.querySelector('#wordp h3') || {}).textContent === `Nearest to \u201c${w}\u201d`, next);
    const doc2 = (await sv.get(`/api/neighbors?w=${q(next)}&k=10`)).json;
    const got2 = await page.$$eval('#wordp .wp-list button.nbw', (els) => els.map((e) => e.textContent));
    assert.deepStrictEqual(got2, doc2.results[0].neighbors.map((h) => h.word));
    return `a contextual neighbour "${word}" \u2192 its 10 neighbours; "${next}" \u2192 its own`;
  });
  await check('live-analogy', async () => {
    await page.fill('#an-a', 'man');
    await page.fill('#an-b', 'king');
    await page.fill('#an-c', 'woman');
    await page.press('#an-c', 'Enter');
    await page.waitForSelector('#wordp .an-list');
    const doc = (await sv.get('/api/analogy?a=man&b=king&c=woman&k=5')).json;
    const got = await page.$$eval('#wordp .an-list button.nbw', (els) => els.map((e) => e.textContent));
    assert.deepStrictEqual(got, doc.results.map((h) => h.word));
    return `man : king :: woman : ${got.join(', ')}`;
  });
  await check('live-error', async () => {
    const bad = 'zzqxv qqzxw';
    await page.fill('#live-s1', bad);
    await page.waitForFunction(() => { const e = document.getElementById('live-err'); return e && !e.hidden; },
      null, { timeout: 15000 });
    const api = await sv.get(`/api/view?s=${q(bad)}`);
    const msg = await page.$eval('#live-err', (e) => e.textContent);
    assert.ok(api.status >= 400 && api.status < 500, `a 4xx: ${api.status}`);
    assert.strictEqual(msg, api.json.error, 'the API\u2019s error message in the page');
    await page.fill('#live-s1', 'the river');
    await until(page, 's0', 'the river');
    const hidden = await page.$eval('#live-err', (e) => e.hidden);
    assert.ok(hidden, 'the error goes when the sentence is fine');
    noProblems(page);
    return `"${msg}" (HTTP ${api.status}) shown in the page, no dialog; gone once the sentence is fine`;
  });
  await page.close();
  await check('live-keyboard', async () => {
    const p = await open(b.context, sv.url);
    await p.waitForSelector('#live-head option:nth-child(2)', { state: 'attached' });
    const focus = async () => p.evaluate(() => {
      const a = document.activeElement;
      return { id: a.id, cls: a.className, tag: a.tagName, text: a.textContent, outline: getComputedStyle(a).outlineStyle };
    });
    let f = null;
    for (let i = 0; i < 10; i++) {
      await p.keyboard.press('Tab');
      f = await focus();
      if (f.id === 'live-s1') break;
    }
    assert.strictEqual(f.id, 'live-s1', 'Tab reaches the text box');
    assert.notStrictEqual(f.outline, 'none', 'focus visible');
    await p.keyboard.press('Control+A');
    await p.keyboard.type('the river bank flooded');
    await p.keyboard.press('Enter');
    await until(p, 's0', 'the river bank flooded');
    // back to the head selector (before the box): Shift+Tab until it, then the arrow key picks the next head
    for (let i = 0; i < 5 && f.id !== 'live-head'; i++) {
      await p.keyboard.press('Shift+Tab');
      f = await focus();
    }
    assert.strictEqual(f.id, 'live-head', 'Shift+Tab reaches the head selector');
    const h0 = await p.$eval('#live-head', (e) => e.value);
    await p.keyboard.press('ArrowDown');
    await p.waitForFunction((h) => document.querySelector('#live-head').value !== h &&
      !document.querySelector('.live[aria-busy]'), h0);
    const h1 = await p.$eval('#live-head', (e) => e.value);
    await p.waitForTimeout(300);
    const doc = (await sv.get(`/api/view?s=${q('the river bank flooded')}&head=${q(h1)}`)).json;
    sameView(await shown(p, 's0'), doc, `keyboard head ${h1}`);
    // on to the tokens, then a neighbour word: Enter opens its neighbours
    let tok = null;
    for (let i = 0; i < 30 && !tok; i++) {
      await p.keyboard.press('Tab');
      f = await focus();
      if (/\btok\b/.test(f.cls)) tok = f;
    }
    assert.ok(tok, 'Tab reaches the tokens');
    let nb = null;
    for (let i = 0; i < 60 && !nb; i++) {
      await p.keyboard.press('Tab');
      f = await focus();
      if (f.cls === 'nbw') nb = f.text;
    }
    assert.ok(nb, 'Tab reaches a neighbour word');
    assert.notStrictEqual(f.outline, 'none', 'its focus is visible');
    await p.keyboard.press('Enter');
    await p.waitForFunction((w) => (document.querySelector('#wordp h3') || {}).textContent === `Nearest to \u201c${w}\u201d`, nb);
    f = await focus();
    assert.strictEqual(f.tag, 'H3', 'the focus moves to the word panel');
    noProblems(p);
    await p.close();
    return `Tab to the box, type, Enter; Shift+Tab to the heads, ArrowDown \u2192 ${h1}; Tab to "${nb}", Enter: ` +
      'its neighbours, focus on them';
  });
  await b.close();
  await sv.close();
  clearTimeout(watchdog);
}

main().then(() => process.exit(kit.failed() ? 1 : 0), (e) => {
  console.log(`FAIL browser live: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  process.exit(1);
});
