#!/usr/bin/env node
// Screenshots an SVG or an HTML page's element in Debian's Chromium (headless, through playwright-core; nothing
// fetched): the movement map's PNG for the docs (scripts/map-screenshot.sh) and the browser tier's artifacts.
//
//   node tests/browser/shot.js FILE OUT.png [SELECTOR]
//     FILE      an .svg or .html file
//     OUT.png   the screenshot (of SELECTOR's element when given, else of the whole SVG at its natural size)
'use strict';

const [file, out, selector] = process.argv.slice(2);
if (!file || !out) {
  console.error('usage: node shot.js FILE OUT.png [SELECTOR]');
  process.exit(2);
}
(async () => {
  const kit = require('./common')(null);
  const b = await kit.launch({ colorScheme: 'light' });
  try {
    const page = await kit.open(b.context, file);
    const el = await page.$(selector || 'svg');
    if (!el) throw new Error(`${file}: no element ${selector || 'svg'}`);
    await el.screenshot({ path: out });
  } finally {
    await b.close();
  }
})().catch((e) => {
  console.error('embvsattn: shot.js: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
