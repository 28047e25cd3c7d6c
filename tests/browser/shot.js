#!/usr/bin/env node
// Screenshots an SVG or an HTML page's element in Debian's Chromium (headless, through playwright-core; nothing
// fetched): the movement map's PNG for the docs (scripts/map-screenshot.sh) and the browser tier's artifacts.
//
//   node tests/browser/shot.js FILE OUT.png [SELECTOR]
//     FILE      an .svg or .html file
//     OUT.png   the screenshot (of SELECTOR's element when given, else of the whole SVG at its natural size)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [file, out, selector] = process.argv.slice(2);
if (!file || !out) {
  console.error('usage: node shot.js FILE OUT.png [SELECTOR]');
  process.exit(2);
}
(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'embvsattn-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    viewport: { width: 1280, height: 900 }, colorScheme: 'light',
  });
  try {
    const page = await context.newPage();
    await page.goto('file://' + path.resolve(file));
    const el = await page.$(selector || 'svg');
    if (!el) throw new Error(`${file}: no element ${selector || 'svg'}`);
    await el.screenshot({ path: out });
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
})().catch((e) => {
  console.error('embvsattn: shot.js: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
