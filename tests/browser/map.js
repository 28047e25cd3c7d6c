#!/usr/bin/env node
// Browser tier, the movement map (render_map.c): in the pages and the standalone SVGs that tests/browser.sh
// generated, every point is drawn at its JSON coordinates (ox + scale·x, oy − scale·y of the plot's data-ox, data-oy,
// data-scale) with its JSON text in data-x, data-y, every arrow runs from its token's static point to its contextual
// point, labels do not overlap and stay in the frame, the explained variance is printed, tokens without an arrow say
// why; on the page, focusing or hovering a point shows its token above and marks its lists, Enter selects it; with
// scripts off the map is all there. Screenshots into ARTIFACTS.
//
//   node tests/browser/map.js DIR ARTIFACTS
//     DIR  view.html view.json view-map.svg compare.html compare.json compare-map.svg alone.html alone.json
'use strict';
const path = require('path');
const assert = require('assert');

const [dir, artifacts] = process.argv.slice(2);
if (!dir || !artifacts) {
  console.error('usage: node map.js DIR ARTIFACTS');
  process.exit(2);
}
const kit = require('./common')(dir);
const { check, launch, open, noProblems, readJson } = kit;

// What the map in `page` draws (the first svg.mm, or the document's svg).
async function drawn(page) {
  return page.evaluate(() => {
    const svg = document.querySelector('svg.mm') || document.documentElement;
    const plot = svg.querySelector('g.mm-plot');
    const num = (e, a) => Number(e.getAttribute(a));
    const frame = svg.querySelector('rect.mm-frame');
    return {
      ox: num(plot, 'data-ox'), oy: num(plot, 'data-oy'), scale: num(plot, 'data-scale'),
      frame: { w: num(frame, 'width'), h: num(frame, 'height') },
      pts: Array.from(svg.querySelectorAll('.mm-pt[data-pt]')).map((g) => {
        const c = g.querySelector('circle');
        return {
          pt: num(g, 'data-pt'), x: g.getAttribute('data-x'), y: g.getAttribute('data-y'),
          cx: num(c, 'cx'), cy: num(c, 'cy'), title: g.querySelector('title').textContent,
          focusable: g.getAttribute('tabindex') === '0', tokens: g.getAttribute('data-tokens'),
        };
      }),
      arrows: Array.from(svg.querySelectorAll('line.mm-arrow')).map((l) => ({
        s: num(l, 'data-s'), i: num(l, 'data-i'), x1: num(l, 'x1'), y1: num(l, 'y1'), x2: num(l, 'x2'),
        y2: num(l, 'y2'),
      })),
      labels: Array.from(svg.querySelectorAll('text.mm-lab')).map((t) => {
        const b = t.getBBox();
        return { pt: num(t, 'data-pt'), text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height };
      }),
      axes: Array.from(svg.querySelectorAll('.mm-axis-lab text')).map((t) => t.textContent),
      whys: Array.from(svg.querySelectorAll('.mm-why')).map((t) => t.textContent),
    };
  });
}

// The drawing equals the document's map; returns a summary.
function same(d, map) {
  const near = (a, b, what) => assert.ok(Math.abs(a - b) <= 0.01, `${what}: ${a} drawn, ${b} from the JSON`);
  assert.strictEqual(d.pts.length, map.points.length, 'one point per JSON point');
  const px = [];
  for (const p of d.pts) {
    const want = map.points[p.pt];
    assert.ok(want, `point ${p.pt} is in the JSON`);
    assert.strictEqual(Number(p.x), want.x, `point ${p.pt}: data-x`);
    assert.strictEqual(Number(p.y), want.y, `point ${p.pt}: data-y`);
    near(p.cx, d.ox + d.scale * want.x, `point ${p.pt} cx`);
    near(p.cy, d.oy - d.scale * want.y, `point ${p.pt} cy`);
    assert.ok(p.title.length > 0, `point ${p.pt} has a title`);
    assert.strictEqual(p.focusable, want.kind !== 'neighbor', `point ${p.pt} (${want.kind}) focusable`);
    px[p.pt] = p;
  }
  const withArrow = map.tokens.filter((t) => t.static !== null && t.context !== null);
  assert.strictEqual(d.arrows.length, withArrow.length, 'one arrow per token with both points');
  for (const t of withArrow) {
    const a = d.arrows.find((e) => e.s === t.sentence && e.i === t.index);
    assert.ok(a, `arrow of token ${t.sentence}:${t.index}`);
    near(a.x1, px[t.static].cx, 'arrow x1'); near(a.y1, px[t.static].cy, 'arrow y1');
    near(a.x2, px[t.context].cx, 'arrow x2'); near(a.y2, px[t.context].cy, 'arrow y2');
  }
  const pct = map.explained_variance.map((e) => (100 * e).toFixed(1));
  assert.ok(d.axes[0].includes(`${pct[0]} %`) && d.axes[1].includes(`${pct[1]} %`), `axes: ${d.axes.join(' / ')}`);
  // labels: no two overlap, all inside the frame, every token's word labelled
  let pairs = 0;
  for (let a = 0; a < d.labels.length; a++) {
    const A = d.labels[a];
    assert.ok(A.x >= -0.5 && A.y >= -0.5 && A.x + A.w <= d.frame.w + 0.5 && A.y + A.h <= d.frame.h + 0.5,
      `label "${A.text}" outside the frame`);
    for (let b = a + 1; b < d.labels.length; b++) {
      const B = d.labels[b];
      const w = Math.min(A.x + A.w, B.x + B.w) - Math.max(A.x, B.x);
      const h = Math.min(A.y + A.h, B.y + B.h) - Math.max(A.y, B.y);
      if (w > 0.5 && h > 0.5) assert.fail(`labels "${A.text}" and "${B.text}" overlap (${w.toFixed(1)} × ${h.toFixed(1)})`);
      pairs++;
    }
  }
  map.points.forEach((p, i) => {
    if (p.kind === 'static') assert.ok(d.labels.some((l) => l.pt === i && l.text === p.word), `"${p.word}" labelled`);
  });
  for (const t of map.tokens.filter((e) => e.reason)) {
    assert.ok(d.whys.some((w) => w.includes(`\u201c${t.text}\u201d (token ${t.index}`) && w.includes(t.reason)),
      `why "${t.text}" has no arrow: ${d.whys.join(' / ')}`);
  }
  return `${d.pts.length} points and ${d.arrows.length} arrows at the JSON's coordinates, ${d.labels.length} labels ` +
    `without overlap (${pairs} pairs), explained variance ${pct.join(' % + ')} %`;
}

async function main() {
  const watchdog = setTimeout(() => {
    console.log('FAIL browser map: timed out after 180 s');
    process.exit(1);
  }, 180000);
  const docs = { view: readJson('view.json'), compare: readJson('compare.json'), alone: readJson('alone.json') };
  const b = await launch({ colorScheme: 'light' });

  for (const name of ['view', 'compare']) {
    const doc = docs[name];
    const map = doc.map;
    const page = await open(b.context, `${name}.html`);
    await check(`map-${name}-page`, async () => {
      assert.ok(map && map.points.length > 0, 'the JSON has a map');
      const r = same(await drawn(page), map);
      await (await page.$('#mm')).screenshot({ path: path.join(artifacts, `map-${name}.png`) });
      return `${r} (map-${name}.png)`;
    });
    await check(`map-${name}-focus`, async () => {
      // the static point of the last token with one (compare: the shared word), focused from the keyboard
      const t = [...map.tokens].reverse().find((e) => e.static !== null);
      const sel = `.mm-pt[data-pt="${t.static}"]`;
      await page.focus(sel);
      const toks = map.tokens.filter((e) => e.static === t.static);
      const st = await page.evaluate(({ toks, sel }) => ({
        focused: document.activeElement === document.querySelector(sel),
        cur: toks.map((e) => Array.from(document.querySelectorAll(`#s${e.sentence} .strip .tok.cur`))
          .map((c) => Number(c.dataset.i))),
        detail: toks.map((e) => document.getElementById(`s${e.sentence}-d${e.index}`).getClientRects().length > 0),
        on: Array.from(document.querySelectorAll('svg.mm .mm-pt.on')).map((g) => Number(g.dataset.pt)).sort((a, c) => a - c),
      }), { toks, sel });
      assert.ok(st.focused, 'the point has the focus');
      toks.forEach((e, q) => {
        assert.deepStrictEqual(st.cur[q], [e.index], `sentence ${e.sentence + 1} shows token ${e.index}`);
        assert.ok(st.detail[q], `sentence ${e.sentence + 1}: the token's panel is shown`);
      });
      const want = new Set();
      toks.forEach((e) => [e.static, e.context, ...e.static_neighbors, ...e.context_neighbors]
        .forEach((p) => { if (p !== null) want.add(p); }));
      assert.deepStrictEqual(st.on, [...want].sort((a, c) => a - c), 'its points and lists marked on the map');
      await page.keyboard.press('Enter');
      for (const e of toks) {
        const pressed = await page.$$eval(`#s${e.sentence} .strip .tok[aria-pressed="true"]`,
          (els) => els.map((c) => Number(c.dataset.i)));
        assert.deepStrictEqual(pressed, [e.index], 'Enter selects the token');
      }
      // hovering a contextual point shows its token
      const c = map.tokens.find((e) => e.context !== null && e !== t);
      if (c) {
        await page.hover(`.mm-pt[data-pt="${c.context}"]`);
        const cur = await page.$$eval(`#s${c.sentence} .strip .tok.cur`, (els) => els.map((e) => Number(e.dataset.i)));
        assert.deepStrictEqual(cur, [c.index], 'hover shows the contextual point\'s token');
      }
      noProblems(page);
      return `focus on "${t.text}" shows token ${toks.map((e) => `${e.sentence}:${e.index}`).join(', ')} and marks ` +
        `${want.size} points; Enter selects it; hover on a contextual point shows its token`;
    });
    await page.close();

    await check(`map-${name}-svg`, async () => {
      const sp = await open(b.context, `${name}-map.svg`);
      const r = same(await drawn(sp), map);
      await sp.setViewportSize({
        width: Math.ceil(Number(await sp.evaluate(() => document.documentElement.getAttribute('width')))),
        height: Math.ceil(Number(await sp.evaluate(() => document.documentElement.getAttribute('height')))),
      });
      await sp.screenshot({ path: path.join(artifacts, `map-${name}-svg.png`) });
      noProblems(sp);
      await sp.close();
      return `--format svg --map: ${r} (map-${name}-svg.png)`;
    });
  }
  const compare = docs.compare.map;
  await check('map-compare-shared', async () => {
    const shared = docs.compare.shared.map((q) => q.word);
    const bank = compare.tokens.filter((t) => t.text === shared[0]);
    assert.strictEqual(bank.length, 2, 'the shared word in both sentences');
    assert.ok(bank[0].static === bank[1].static && bank[0].static !== null, 'one static point');
    assert.ok(bank[0].context !== bank[1].context && bank[0].context !== null && bank[1].context !== null,
      'two contextual points');
    assert.deepStrictEqual(bank.map((t) => compare.points[t.context].sentence), [0, 1], 'coloured per sentence');
    return `"${shared[0]}": one static point, an arrow per sentence`;
  });

  const alone = docs.alone;
  const ap = await open(b.context, 'alone.html');
  await check('map-nothing-to-attend', async () => {
    const d = await drawn(ap);
    const r = same(d, alone.map);
    const t = alone.map.tokens.find((e) => e.reason === 'nothing to attend to');
    assert.ok(t && t.static !== null && t.context === null, 'a token with a static point and no arrow');
    assert.ok(d.pts.find((p) => p.pt === t.static).title.includes('nothing to attend to'), 'its title says why');
    noProblems(ap);
    return `"${t.text}" drawn without an arrow, saying why; ${r}`;
  });
  await ap.close();
  await b.close();

  const nojs = await launch({ javaScriptEnabled: false });
  await check('map-without-scripts', async () => {
    const p = await open(nojs.context, 'compare.html');
    const r = same(await drawn(p), compare);
    await p.focus(`.mm-pt[data-pt="${compare.tokens[0].static}"]`);
    await (await p.$('#mm')).screenshot({ path: path.join(artifacts, 'map-compare-noscript.png') });
    await p.close();
    return `${r} (map-compare-noscript.png)`;
  });
  await nojs.close();
  clearTimeout(watchdog);
}

main().then(() => process.exit(kit.failed() ? 1 : 0), (e) => {
  console.log(`FAIL browser map: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  process.exit(1);
});
