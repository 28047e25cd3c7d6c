#!/usr/bin/env node
// A screenshot of the live page for the docs (scripts/serve-screenshot.sh): `BIN serve --port 0` started here, its
// page opened in Debian's Chromium, SENTENCE typed into the text box, a neighbour word clicked (the word panel), the
// top of the page photographed as it is (nothing edited).
//
//   node tests/browser/serve-shot.js BIN OUT.png SENTENCE TOKEN
//     TOKEN  the index of the token to select
'use strict';

const [bin, out, sentence, token] = process.argv.slice(2);
if (!bin || !out || !sentence) {
  console.error('usage: node serve-shot.js BIN OUT.png SENTENCE [TOKEN]');
  process.exit(2);
}
(async () => {
  const kit = require('./common')(null);
  const sv = await kit.serve(bin, []);
  const b = await kit.launch({ colorScheme: 'light', viewport: { width: 1280, height: 1500 } });
  try {
    const page = await kit.open(b.context, sv.url);
    await page.waitForSelector('#live-head option:nth-child(2)', { state: 'attached' });
    await page.fill('#live-s1', sentence);
    await page.waitForFunction((s) => (document.querySelector('#s0 .quote') || {}).textContent === `\u201c${s}\u201d` &&
      !document.querySelector('.live[aria-busy]'), sentence);
    await page.click(`#s0 .strip .tok[data-i="${Number(token) || 0}"]`);
    await page.click('#s0 .detail:not([hidden]) table.static button.nbw >> nth=0');
    await page.waitForSelector('#wordp .wp-list');
    await page.fill('#an-a', 'man');
    await page.fill('#an-b', 'king');
    await page.fill('#an-c', 'woman');
    await page.press('#an-c', 'Enter');
    await page.waitForSelector('#wordp .an-list');
    await page.mouse.move(0, 0);
    await page.screenshot({ path: out });
    kit.noProblems(page);
  } finally {
    await b.close();
    await sv.close();
  }
})().catch((e) => {
  console.error('embvsattn: serve-shot.js: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
