#!/usr/bin/env node
// Browser tier: opens the pages and SVGs that tests/browser.sh generated in Debian's Chromium (headless, through
// playwright-core; no browser is downloaded) and checks them against `--format json` of the same input.
//
//   node tests/browser/test.js DIR ARTIFACTS
//     DIR        view.html view.json view.svg compare.html compare.json compare.svg evil.html evil.json
//                alone.html alone.json (a token with nothing to attend to), view-meaning.svg view-ee.svg (--term);
//                the JSON documents are --why's (the page embeds the meaning/position split for its switch)
//     ARTIFACTS  where the screenshots go (git-ignored)
//
// Prints one "PASS browser NAME: ..." or "FAIL browser NAME: why" line per check; exits 1 when any failed.
'use strict';
const fs = require('fs');
const path = require('path');
const assert = require('assert');

const [dir, artifacts] = process.argv.slice(2);
if (!dir || !artifacts) {
  console.error('usage: node test.js DIR ARTIFACTS');
  process.exit(2);
}
const kit = require('./common')(dir);
const { check, launch, open, noProblems, readJson, file, url, CHROMIUM } = kit;

// The weights exactly as the JSON text writes them (strings), row by row, for each view in the document.
function rawWeights(name) {
  const text = fs.readFileSync(file(name), 'utf8');
  const out = [];
  const re = /"weights":\[\[(.*?)\]\]/g;
  let m;
  while ((m = re.exec(text)) !== null) out.push(m[1].split('],[').map((row) => row.split(',')));
  return out;
}

// A matrix of the document's "why" (the meaning/position split) exactly as the JSON text writes it, for each view.
function rawWhy(name, key) {
  const text = fs.readFileSync(file(name), 'utf8');
  const out = [];
  const re = new RegExp(`"${key}":\\[\\[(.*?)\\]\\]`, 'g');
  let m;
  while ((m = re.exec(text)) !== null) out.push(m[1].split('],[').map((row) => row.split(',')));
  return out;
}

// The shared word a compare page selects first: the rarest (highest row), the first on ties.
function pickShared(cmp) {
  let best = 0;
  cmp.shared.forEach((q, i) => { if (q.row > cmp.shared[best].row) best = i; });
  return cmp.shared[best];
}


// The heatmap of section `sel` has n×n cells whose data-weight is the JSON's text of A[row][col].
async function checkHeatmap(page, sel, raw) {
  const n = raw.length;
  const cells = await page.$$eval(`${sel} rect.cell`, (els) => els.map((e) => ({
    r: Number(e.getAttribute('data-row')), c: Number(e.getAttribute('data-col')),
    w: e.getAttribute('data-weight'), title: e.querySelector('title') ? e.querySelector('title').textContent : '',
  })));
  assert.strictEqual(cells.length, n * n, `${cells.length} cells for ${n} tokens`);
  const seen = new Set();
  for (const cell of cells) {
    assert.strictEqual(cell.w, raw[cell.r][cell.c], `cell ${cell.r},${cell.c}`);
    assert.ok(cell.title.includes(`: ${raw[cell.r][cell.c]} (`), `title of cell ${cell.r},${cell.c}: ${cell.title}`);
    seen.add(cell.r * n + cell.c);
  }
  assert.strictEqual(seen.size, n * n, 'every (row, column) once');
  const rows = await page.$$eval(`${sel} .lab.row`, (els) => els.length);
  const cols = await page.$$eval(`${sel} .lab.col`, (els) => els.length);
  assert.strictEqual(rows, n, 'row labels');
  assert.strictEqual(cols, n, 'column labels');
  const ticks = await page.$$eval(`${sel} .legend text`, (els) => els.map((e) => e.textContent));
  assert.deepStrictEqual(ticks, ['weight', '0', '0.25', '0.5', '0.75', '1'], 'colour scale legend');
  return n * n;
}

// What section `sec` shows for token k: the head-view row, chip shades, heatmap row, neighbour panel.
async function checkDrawn(page, sec, k, view, raw) {
  const n = view.tokens.length;
  const state = await page.evaluate(({ sec, k }) => {
    const el = document.getElementById(sec);
    const visible = (e) => !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
    const rows = Array.from(el.querySelectorAll('.hv-row'));
    const row = rows[k];
    const detail = document.getElementById(`${sec}-d${k}`);
    const words = (cls) => Array.from(detail.querySelectorAll(`table.${cls} tbody tr td:first-child`))
      .map((td) => td.firstChild ? td.firstChild.textContent : '');
    const sims = (cls) => Array.from(detail.querySelectorAll(`table.${cls} td.num`)).map((td) => td.dataset.sim);
    return {
      rowSel: row.classList.contains('sel'),
      rowVisible: visible(row),
      otherRowsVisible: rows.filter((r, i) => i !== k && visible(r)).length,
      lines: Array.from(row.querySelectorAll('line')).map((l) => ({
        j: Number(l.dataset.j), op: l.getAttribute('stroke-opacity'),
        shown: Number(getComputedStyle(l).strokeOpacity), len: l.getTotalLength(),
      })),
      chips: Array.from(el.querySelectorAll('.strip .tok')).map((t) => t.style.getPropertyValue('--w')),
      cur: Array.from(el.querySelectorAll('.strip .tok.cur')).map((t) => Number(t.dataset.i)),
      hmSel: Array.from(el.querySelectorAll('.hm-row.sel')).map((r) => Number(r.dataset.row)),
      detailVisible: visible(detail),
      otherDetailsVisible: Array.from(el.querySelectorAll('.detail')).filter((d) => d !== detail && visible(d)).length,
      staticWords: words('static'), contextWords: words('context'),
      staticSims: sims('static'), contextSims: sims('context'),
      readout: el.querySelector('.readout').textContent,
    };
  }, { sec, k });
  assert.ok(state.rowSel && state.rowVisible, `head-view row ${k} drawn`);
  assert.strictEqual(state.otherRowsVisible, 0, 'other head-view rows hidden');
  assert.strictEqual(state.lines.length, n, 'one line per token');
  for (const l of state.lines) {
    assert.strictEqual(l.op, raw[k][l.j], `line ${k}->${l.j} opacity is the weight`);
    assert.ok(Math.abs(l.shown - Number(raw[k][l.j])) < 1e-6, `line ${k}->${l.j} drawn with that opacity`);
  }
  assert.ok(state.lines.some((l) => l.len > 0 && l.shown > 0.05), 'some line visible');
  state.chips.forEach((w, j) => assert.strictEqual(Number(w), view.weights[k][j], `chip ${j} shade`));
  assert.deepStrictEqual(state.cur, [k], 'current chip');
  assert.deepStrictEqual(state.hmSel, [k], 'heatmap row marked');
  assert.ok(state.detailVisible, 'neighbour panel shown');
  assert.strictEqual(state.otherDetailsVisible, 0, 'other panels hidden');
  const tok = view.tokens[k];
  if (tok.static_neighbors.length)
    assert.deepStrictEqual(state.staticWords, tok.static_neighbors.map((h) => h.word), 'static neighbours');
  assert.deepStrictEqual(state.staticSims.map(Number), tok.static_neighbors.map((h) => h.similarity), 'static sims');
  assert.deepStrictEqual(state.contextWords, tok.context_neighbors.map((h) => h.word), 'context neighbours');
  assert.deepStrictEqual(state.contextSims.map(Number), tok.context_neighbors.map((h) => h.similarity),
    'context sims');
  assert.ok(state.readout.startsWith(`${tok.text} attends most to:`), `readout: ${state.readout}`);
  return state;
}

async function pressed(page, sec) {
  return page.$$eval(`#${sec} .strip .tok[aria-pressed="true"]`, (els) => els.map((e) => Number(e.dataset.i)));
}

async function main() {
  const watchdog = setTimeout(() => {
    console.log('FAIL browser: timed out after 240 s');
    process.exit(1);
  }, 240000);
  const view = readJson('view.json');
  const [viewRaw] = rawWeights('view.json');
  const cmp = readJson('compare.json');
  const cmpRaw = rawWeights('compare.json');
  const evil = readJson('evil.json');
  fs.mkdirSync(artifacts, { recursive: true });

  let b;
  try {
    b = await launch({ colorScheme: 'light' });
  } catch (e) {
    console.log(`FAIL browser launch: ${CHROMIUM}: ${String(e.message).split('\n')[0]}`);
    process.exit(1);
  }
  const n = view.tokens.length;
  // the token to click: the last one with a vector (the page starts on the first)
  let k = n - 1;
  while (k > 0 && view.tokens[k].status === 'oov') k--;

  const page = await open(b.context, 'view.html');
  await check('view-embedded-json', async () => {
    const embedded = await page.$eval('#embvsattn-data', (e) => JSON.parse(e.textContent));
    assert.deepStrictEqual(embedded, view);
    const scripts = await page.$$eval('script', (els) => els.length);
    assert.strictEqual(scripts, 2, 'two script elements');
    const link = await page.$eval('#dl-json', (a) => ({ href: a.href, shown: a.getClientRects().length > 0 }));
    assert.ok(link.shown && link.href.startsWith('blob:'), `save link: ${JSON.stringify(link)}`);
    const saved = await page.evaluate(async (href) => (await fetch(href)).json(), link.href);
    assert.deepStrictEqual(saved, view, 'the saved JSON');
    return 'the page embeds the --format json document; its "save it" link gives it back';
  });
  await check('view-heatmap', async () => {
    const cells = await checkHeatmap(page, '#s0 .hm-svg', viewRaw);
    return `${cells} cells, each data-weight and title equal to the JSON weight; ${n} row and column labels, legend`;
  });
  await check('view-heatmap-hover', async () => {
    const cell = `#s0 rect.cell[data-row="${k}"][data-col="0"]`;
    await page.hover(cell);
    const read = await page.$eval('#s0 .hm-read', (e) => e.textContent);
    assert.ok(read.includes(viewRaw[k][0]), `readout under the heatmap: ${read}`);
    await page.mouse.move(0, 0);
    return `hovering cell (${k}, 0) shows ${read}`;
  });
  await check('view-initial', async () => {
    let first = 0;
    while (first < n - 1 && view.tokens[first].status === 'oov') first++;
    assert.deepStrictEqual(await pressed(page, 's0'), [first]);
    await checkDrawn(page, 's0', first, view, viewRaw);
    return `token ${first} (${view.tokens[first].text}) selected and drawn on load`;
  });
  await check('view-click', async () => {
    await page.click(`#s0 .strip .tok[data-i="${k}"]`);
    assert.deepStrictEqual(await pressed(page, 's0'), [k], 'aria-pressed');
    await page.mouse.move(0, 0);
    const st = await checkDrawn(page, 's0', k, view, viewRaw);
    await page.screenshot({ path: path.join(artifacts, 'view-clicked.png'), fullPage: true });
    return `clicking "${view.tokens[k].text}" draws ${st.lines.length} lines with opacity = its weights, shades the ` +
      `chips, marks heatmap row ${k}, shows ${st.staticWords.length} static beside ${st.contextWords.length} ` +
      'in-context neighbours (view-clicked.png)';
  });
  await check('view-hover', async () => {
    const j = k > 0 ? k - 1 : k;
    await page.hover(`#s0 .strip .tok[data-i="${j}"]`);
    const hv = await page.$eval(`#s0 .hv-row[data-i="${j}"]`, (e) => e.classList.contains('sel'));
    assert.ok(hv, 'hovered token drawn');
    assert.deepStrictEqual(await pressed(page, 's0'), [k], 'hover does not select');
    await page.mouse.move(0, 0);
    await checkDrawn(page, 's0', k, view, viewRaw);
    return 'hovering a token draws it; leaving returns to the selected one';
  });
  await check('view-keyboard', async () => {
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    let focused = null;
    for (let i = 0; i < 30 && !focused; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => {
        const a = document.activeElement;
        return a && a.classList.contains('tok') ? Number(a.dataset.i) : null;
      });
    }
    assert.strictEqual(focused, k, 'Tab reaches the selected token first');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notStrictEqual(outline, 'none', 'focus is visible');
    const dir = k > 0 ? 'ArrowLeft' : 'ArrowRight';
    const j = k > 0 ? k - 1 : k + 1;
    await page.keyboard.press(dir);
    const now = await page.evaluate(() => Number(document.activeElement.dataset.i));
    assert.strictEqual(now, j, 'arrow key moves the focus');
    await checkDrawn(page, 's0', j, view, viewRaw); // focus draws
    assert.deepStrictEqual(await pressed(page, 's0'), [k], 'focus alone does not select');
    await page.keyboard.press('Enter');
    assert.deepStrictEqual(await pressed(page, 's0'), [j], 'Enter selects');
    const j2 = j > 0 ? j - 1 : j + 1;
    await page.keyboard.press(j > 0 ? 'ArrowLeft' : 'ArrowRight');
    await page.keyboard.press(' ');
    assert.deepStrictEqual(await pressed(page, 's0'), [j2], 'Space selects');
    await page.keyboard.press('Tab'); // leave the strip: the selected token stays drawn
    await checkDrawn(page, 's0', j2, view, viewRaw);
    return `Tab focuses token ${k}, arrows move, focus draws, Enter selects ${j}, Space selects ${j2}`;
  });
  await check('view-screenshot', async () => {
    await page.click(`#s0 .strip .tok[data-i="${k}"]`);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(artifacts, 'view.png'), fullPage: true });
    noProblems(page);
    return `${path.join(artifacts, 'view.png')}; no script errors, no network requests`;
  });
  await check('view-dark', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, bl] = bg.match(/\d+/g).map(Number);
    assert.ok(r + g + bl < 150, `dark background: ${bg}`);
    await page.screenshot({ path: path.join(artifacts, 'view-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    return `prefers-color-scheme: dark gives ${bg} (view-dark.png)`;
  });
  await page.close();

  // compare: both sentences, the shared words highlighted, twins selected together
  const cp = await open(b.context, 'compare.html');
  await check('compare-sentences', async () => {
    const quotes = await cp.$$eval('section.sent .quote', (els) => els.map((e) => e.textContent));
    assert.deepStrictEqual(quotes, cmp.sentences.map((s) => `\u201c${s.sentence}\u201d`));
    const chips = await cp.$$eval('section.sent', (secs) => secs.map((s) =>
      Array.from(s.querySelectorAll('.strip .tok .tt')).map((t) => t.textContent)));
    assert.deepStrictEqual(chips, cmp.sentences.map((s) => s.tokens.map((t) => t.text)));
    const boxes = await cp.$$eval('section.sent', (secs) => secs.map((s) => s.getBoundingClientRect().toJSON()));
    assert.ok(boxes[1].left >= boxes[0].right - 1 && Math.abs(boxes[1].top - boxes[0].top) < 2, 'side by side');
    let cells = 0;
    for (let s = 0; s < 2; s++) cells += await checkHeatmap(cp, `#s${s} .hm-svg`, cmpRaw[s]);
    return `two sentences side by side, ${cells} heatmap cells equal to the JSON weights`;
  });
  await check('compare-shared', async () => {
    const q0 = cmp.shared[0];
    for (let s = 0; s < 2; s++) {
      const info = await cp.evaluate(({ s, idx }) => {
        const chips = Array.from(document.querySelectorAll(`#s${s} .strip .tok`));
        const one = chips[idx];
        const other = chips.find((c) => !c.classList.contains('shared'));
        return {
          shared: one.classList.contains('shared'),
          border: getComputedStyle(one).borderTopColor,
          otherBorder: other ? getComputedStyle(other).borderTopColor : null,
          count: chips.filter((c) => c.classList.contains('shared')).length,
        };
      }, { s, idx: q0.token_index[s] });
      assert.ok(info.shared, `sentence ${s + 1}: shared chip marked`);
      assert.notStrictEqual(info.border, info.otherBorder, 'shared chip looks different');
      assert.strictEqual(info.count, new Set(cmp.shared.map((q) => q.token_index[s])).size, 'shared chips');
    }
    const pick = pickShared(cmp);
    for (let s = 0; s < 2; s++)
      assert.deepStrictEqual(await pressed(cp, `s${s}`), [pick.token_index[s]],
        `sentence ${s + 1}: the shared word "${pick.word}" (the rarest of ${cmp.shared.map((q) => q.word)}) ` +
        'selected on load');
    const rows = await cp.$$eval('table.sh tbody tr', (trs) => trs.map((tr) => ({
      word: tr.querySelector('.shared-btn').textContent,
      cos: Array.from(tr.querySelectorAll('td.num')).map((td) => td.dataset.value),
    })));
    assert.deepStrictEqual(rows.map((r) => r.word), cmp.shared.map((q) => q.word), 'shared table');
    rows.forEach((r, q) => assert.deepStrictEqual(r.cos.map(Number),
      [cmp.shared[q].static_cosine, cmp.shared[q].context_cosine], 'cosines'));
    return `shared ${cmp.shared.map((q) => q.word).join(', ')} highlighted in both sentences and listed`;
  });
  await check('compare-select-shared', async () => {
    const q = cmp.shared.length - 1;
    const sh = cmp.shared[q];
    await cp.click(`.shared-btn[data-i1="${sh.token_index[0]}"][data-i2="${sh.token_index[1]}"]`);
    await cp.mouse.move(0, 0);
    for (let s = 0; s < 2; s++) {
      assert.deepStrictEqual(await pressed(cp, `s${s}`), [sh.token_index[s]]);
      const st = await checkDrawn(cp, `s${s}`, sh.token_index[s], cmp.sentences[s], cmpRaw[s]);
      assert.deepStrictEqual(st.contextWords, sh.context_neighbors[s].map((h) => h.word));
    }
    // clicking the shared word in one sentence selects its twin in the other
    const other = cmp.sentences[0].tokens.findIndex((t, i) => i !== sh.token_index[0] && t.status !== 'oov');
    await cp.click(`#s0 .strip .tok[data-i="${other}"]`);
    await cp.click(`#s0 .strip .tok[data-i="${sh.token_index[0]}"]`);
    await cp.mouse.move(0, 0);
    assert.deepStrictEqual(await pressed(cp, 's1'), [sh.token_index[1]], 'twin selected');
    await cp.screenshot({ path: path.join(artifacts, 'compare.png'), fullPage: true });
    noProblems(cp);
    return `"${sh.word}" selected in both sentences; its in-context neighbours differ (compare.png)`;
  });
  await cp.close();

  // links to a token: #token=I selects it on load (compare: its twin too), #token=I,J one per sentence
  await check('compare-link-token', async () => {
    const sh = pickShared(cmp);
    const other = cmp.sentences[0].tokens.findIndex((t, i) => i !== sh.token_index[0] && t.status !== 'oov');
    const lp = await b.context.newPage();
    await lp.goto(url('compare.html') + `#token=${other},0`);
    assert.deepStrictEqual([await pressed(lp, 's0'), await pressed(lp, 's1')], [[other], [0]], '#token=I,J');
    await lp.goto(url('compare.html') + `#token=${sh.token_index[0]}`);
    await lp.reload();
    assert.deepStrictEqual([await pressed(lp, 's0'), await pressed(lp, 's1')],
      [[sh.token_index[0]], [sh.token_index[1]]], '#token=I selects the shared word and its twin');
    await lp.click(`#s0 .strip .tok[data-i="${other}"]`);
    const hash = await lp.evaluate(() => window.location.hash);
    assert.ok(hash.startsWith(`#token=${other},`), `clicking writes the link: ${hash}`);
    await lp.close();
    return `#token=${other},0 and #token=${sh.token_index[0]} select on load; a click writes ${hash}`;
  });

  // the meaning/position switch: redraws the heatmap from the embedded "why", back to the weights as written
  const why = view.why;
  const wp = await open(b.context, 'view.html');
  await check('view-why-switch', async () => {
    assert.ok(why && why.ee && why.meaning, 'the page\'s document has "why"');
    const shown = await wp.$eval('#s0 .termsw', (e) => e.getClientRects().length > 0);
    assert.ok(shown, 'the switch is shown (scripts on)');
    const read = () => wp.$$eval('#s0 .hm-svg rect.cell:not(.masked)', (els) => els.map((e) => ({
      r: Number(e.dataset.row), c: Number(e.dataset.col), op: Number(e.getAttribute('fill-opacity')),
      neg: e.classList.contains('neg'), value: e.getAttribute('data-value'),
      title: e.querySelector('title').textContent,
      fill: getComputedStyle(e).fill,
    })));
    const before = await read();
    await wp.check('#s0 .termsw input[value="meaning"]');
    let cells = await read();
    for (const x of cells) assert.ok(Math.abs(x.op - why.meaning[x.r][x.c]) < 1e-6, `meaning (${x.r}, ${x.c})`);
    await wp.screenshot({ path: path.join(artifacts, 'view-why-meaning.png'), fullPage: true });
    await wp.check('#s0 .termsw input[value="ee"]');
    cells = await read();
    let max = 0;
    why.ee.forEach((r) => r.forEach((x) => { if (x !== null) max = Math.max(max, Math.abs(x)); }));
    let neg = 0;
    for (const x of cells) {
      const v = why.ee[x.r][x.c];
      assert.ok(Math.abs(x.op - Math.abs(v === null ? 0 : v) / max) < 1e-6, `ee shade (${x.r}, ${x.c})`);
      assert.strictEqual(x.neg, v !== null && v < 0, `ee sign (${x.r}, ${x.c})`);
      neg += x.neg;
    }
    const fills = new Set(cells.map((x) => x.fill));
    assert.ok(neg === 0 || fills.size === 2, 'negative terms drawn in another colour');
    const legend = await wp.$$eval('#s0 .legend text', (els) => els.map((e) => e.textContent));
    assert.strictEqual(legend[0], '|logit|', 'legend title');
    await wp.check('#s0 .termsw input[value="weights"]');
    assert.deepStrictEqual(await read(), before, 'back to the weights as the page wrote them');
    await checkHeatmap(wp, '#s0 .hm-svg', viewRaw);
    noProblems(wp);
    return `meaning-only shades = the JSON's why.meaning; ee: shade |x|/${max.toFixed(2)}, ${neg} negative cells ` +
      'in red; back to the weights (view-why-meaning.png)';
  });
  await check('view-link-token', async () => {
    await wp.goto(url('view.html') + `#token=${k}&term=position`);
    await wp.reload();
    assert.deepStrictEqual(await pressed(wp, 's0'), [k], '#token=K');
    const term = await wp.$eval('#s0 .termsw input:checked', (e) => e.value);
    assert.strictEqual(term, 'position', '&term=position');
    noProblems(wp);
    return `#token=${k}&term=position selects token ${k} and the position-only weights on load`;
  });
  await check('view-wording', async () => {
    const st = await wp.evaluate(() => ({
      notes: Array.from(document.querySelectorAll('#s0 table.nb.context caption small')).map((e) => e.textContent),
      caption: document.querySelector('#s0 .hmfig figcaption').textContent,
      about: document.querySelector('footer').textContent,
    }));
    assert.ok(st.notes.length === n && st.notes.every((t) => t === view.head.in_context),
      `in-context notes = the head's in_context (the text legend's words): ${st.notes[0]}`);
    assert.ok(!st.notes[0].includes('row of A'), 'no "row of A·V"');
    assert.ok(st.about.includes(view.head.in_context), 'About says the same');
    if (view.head.exclude_self) {
      assert.ok(view.weights.every((r, i) => r[i] === 0), 'the diagonal is empty');
      assert.ok(st.caption.includes('The diagonal is empty: a word never attends to itself'),
        `the heatmap's caption explains the empty diagonal: ${st.caption}`);
    }
    return `the in-context note is the head's in_context; ${view.head.exclude_self ? 'the empty diagonal explained under the heatmap' : 'the head attends to itself'}`;
  });
  await wp.close();

  // a sentence made to break the page: </script>, comments, quotes, ampersands
  const ep = await open(b.context, 'evil.html');
  await check('escaping', async () => {
    const scripts = await ep.$$eval('script', (els) => els.length);
    assert.strictEqual(scripts, 2, 'no script element injected');
    const embedded = await ep.$eval('#embvsattn-data', (e) => JSON.parse(e.textContent));
    assert.deepStrictEqual(embedded, evil);
    const chips = await ep.$$eval('#s0 .strip .tok .tt', (els) => els.map((e) => e.textContent));
    assert.deepStrictEqual(chips, evil.tokens.map((t) => t.text));
    const quote = await ep.$eval('#s0 .quote', (e) => e.textContent);
    assert.strictEqual(quote, `\u201c${evil.sentence}\u201d`);
    await ep.click('#s0 .strip .tok[data-i="1"]');
    noProblems(ep);
    return `"${evil.sentence.slice(0, 40)}…" shown as text; the page works`;
  });
  await ep.close();

  // a token with nothing to attend to: its panel, readout, head-view row and heatmap row say so
  const alone = readJson('alone.json');
  const ap = await open(b.context, 'alone.html');
  await check('nothing-to-attend', async () => {
    const k = alone.tokens.findIndex((t) => t.context_reason);
    assert.ok(k >= 0, 'the JSON has a token with a context_reason');
    const tok = alone.tokens[k];
    assert.strictEqual(tok.context_reason, 'nothing to attend to');
    assert.deepStrictEqual([tok.attention, tok.context_neighbors, tok.context_self_similarity], [[], [], null]);
    assert.ok(alone.weights[k].every((w) => w === 0), 'its row of weights is 0');
    await ap.click(`#s0 .strip .tok[data-i="${k}"]`);
    await ap.mouse.move(0, 0);
    const st = await ap.evaluate((k) => {
      const detail = document.getElementById(`s0-d${k}`);
      const visible = (e) => !!e && e.getClientRects().length > 0;
      const row = document.querySelector(`#s0 .hm-row[data-row="${k}"]`);
      return {
        readout: document.querySelector('#s0 .readout').textContent,
        shown: visible(detail),
        context: Array.from(detail.querySelectorAll('table.context tbody td')).map((td) => td.textContent),
        selfLine: !!detail.querySelector('.self'),
        lines: Array.from(document.querySelectorAll(`#s0 .hv-row[data-i="${k}"] line`))
          .map((l) => Number(getComputedStyle(l).strokeOpacity)),
        rowText: row.querySelector('text.none') ? row.querySelector('text.none').textContent : null,
        rowTextShown: visible(row.querySelector('text.none')),
        caption: document.querySelector('#s0 .hmfig figcaption').textContent,
      };
    }, k);
    assert.strictEqual(st.readout, `${tok.text} has nothing to attend to`, 'readout');
    assert.ok(st.shown, 'its panel is shown');
    assert.deepStrictEqual(st.context, ['nothing to attend to'], 'in-context table');
    assert.ok(!st.selfLine, 'no cosine to the static vector');
    assert.ok(st.lines.length === alone.tokens.length && st.lines.every((o) => o === 0), 'no head-view line drawn');
    assert.strictEqual(st.rowText, 'nothing to attend to', 'heatmap row');
    assert.ok(st.rowTextShown, 'heatmap row text visible');
    assert.ok(st.caption.includes('nothing to attend to'), `caption: ${st.caption}`);
    await ap.screenshot({ path: path.join(artifacts, 'alone.png'), fullPage: true });
    noProblems(ap);
    return `token ${k} ("${tok.text}", --causal): readout, panel, head view and heatmap row say "nothing to attend ` +
      'to" (alone.png)';
  });
  await ap.close();

  // the SVGs in the browser: the same cells and weights (--term: the same cells and that term)
  for (const [name, raws] of [['view.svg', [viewRaw]], ['compare.svg', cmpRaw],
    ['view-meaning.svg', rawWhy('view.json', 'meaning')],
    ['view-ee.svg', rawWhy('view.json', 'ee').map((m) => m.map((r) => r.map((x) => (x === 'null' ? '0' : x))))]]) {
    await check(name, async () => {
      const sp = await open(b.context, name);
      const cells = await sp.$$eval('rect.cell', (els) => els.map((e) => e.getAttribute('data-weight')));
      assert.deepStrictEqual(cells, raws.flat(2), 'cells in order, equal to the JSON weights');
      const box = await sp.evaluate(() => document.documentElement.getBBox().width);
      assert.ok(box > 100, 'drawn');
      // the caption is wrapped to the picture: every line ends inside it
      const cap = await sp.evaluate(() => {
        const W = Number(document.documentElement.getAttribute('width'));
        const lines = Array.from(document.querySelectorAll('.caption text'));
        return { W, n: lines.length, right: Math.max(...lines.map((t) => t.getBBox().x + t.getBBox().width)) };
      });
      assert.ok(cap.n >= 3 && cap.right <= cap.W, `caption lines end at ${cap.right} px of ${cap.W}`);
      await sp.setViewportSize({
        width: Math.ceil(Number(await sp.evaluate(() => document.documentElement.getAttribute('width')))),
        height: Math.ceil(Number(await sp.evaluate(() => document.documentElement.getAttribute('height')))),
      });
      await sp.screenshot({ path: path.join(artifacts, name.replace('.svg', '-svg.png')) });
      noProblems(sp);
      await sp.close();
      return `${cells.length} cells equal to the JSON weights; the caption's ${cap.n} lines end by ` +
        `${Math.ceil(cap.right)} of ${cap.W} px (${name.replace('.svg', '-svg.png')})`;
    });
  }
  await b.close();

  // scripts off: the page is still complete (every panel, every line)
  const nojs = await launch({ javaScriptEnabled: false });
  await check('view-without-scripts', async () => {
    const p = await open(nojs.context, 'view.html');
    const st = await p.evaluate(() => {
      const visible = (e) => e.getClientRects().length > 0;
      return {
        termsw: Array.from(document.querySelectorAll('.termsw')).filter(visible).length,
        cls: document.documentElement.className,
        details: Array.from(document.querySelectorAll('.detail')).filter(visible).length,
        rows: Array.from(document.querySelectorAll('.hv-row')).filter(visible).length,
        cells: document.querySelectorAll('rect.cell').length,
      };
    });
    assert.strictEqual(st.cls, 'nojs');
    assert.strictEqual(st.details, n, 'every neighbour panel shown');
    assert.strictEqual(st.rows, n, 'every head-view row drawn');
    assert.strictEqual(st.cells, n * n);
    assert.strictEqual(st.termsw, 0, 'the meaning/position switch needs scripts: hidden');
    await p.screenshot({ path: path.join(artifacts, 'view-noscript.png'), fullPage: true });
    await p.close();
    return `${n} panels and ${n} head-view rows shown (view-noscript.png)`;
  });
  await nojs.close();
  clearTimeout(watchdog);
}

main().then(() => process.exit(kit.failed() ? 1 : 0), (e) => {
  console.log(`FAIL browser: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  process.exit(1);
});
