#!/usr/bin/env node
// Opens a `regain master --gallery` page in headless Debian Chromium (file://, no network),
// checks that every <img> decoded, that no ancestor of an HDR <img> creates a stacking
// context or clips (iOS Safari's condition for showing gain maps), and saves a full-page
// screenshot.
//   usage: node gallery_check.mjs INDEX.html SCREENSHOT.png
// Prints one JSON object: {rows, failed_rows, images, broken: [...], hdr_images, stacking: [...]}.
// Exit 0 when nothing is broken and no stacking context was found, 1 otherwise, 2 when
// Chromium cannot be launched.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const { chromium } = createRequire(path.join(process.cwd(), 'noop.js'))('playwright-core');
const [index, shot] = process.argv.slice(2);
if (!index || !shot) {
  console.error('usage: node gallery_check.mjs INDEX.html SCREENSHOT.png');
  process.exit(64);
}
process.env.TMPDIR = fs.mkdtempSync(path.join(os.tmpdir(), 'gallery-check-'));
const userDataDir = fs.mkdtempSync(path.join(process.env.TMPDIR, 'profile-'));
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    chromiumSandbox: false,
    viewport: { width: 1600, height: 900 },
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
} catch (e) {
  console.error(`cannot launch Chromium: ${e.message}`);
  fs.rmSync(process.env.TMPDIR, { recursive: true, force: true });
  process.exit(2);
}
const page = context.pages()[0] || await context.newPage();
// Nothing but the gallery's own files: any other request is refused.
await page.route('**/*', (route) => (route.request().url().startsWith('file://') ? route.continue() : route.abort()));
await page.goto('file://' + path.resolve(index), { waitUntil: 'load' });
const result = await page.evaluate(async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.map((i) => (i.complete ? null : new Promise((r) => { i.onload = i.onerror = r; }))));
  const broken = imgs.filter((i) => !i.naturalWidth).map((i) => i.getAttribute('src'));
  // Properties that create a stacking context or clip (CSS 2.1 / Compositing / Masking).
  const stacking = [];
  for (const img of document.querySelectorAll('img.hdr')) {
    for (let e = img.parentElement; e && e !== document.documentElement; e = e.parentElement) {
      const s = getComputedStyle(e);
      const why = [];
      if (s.overflow !== 'visible' || s.overflowX !== 'visible' || s.overflowY !== 'visible') why.push('overflow');
      if (s.clipPath !== 'none') why.push('clip-path');
      if (s.transform !== 'none') why.push('transform');
      if (s.filter !== 'none') why.push('filter');
      if (s.backdropFilter && s.backdropFilter !== 'none') why.push('backdrop-filter');
      if (s.zIndex !== 'auto') why.push('z-index');
      if (Number(s.opacity) < 1) why.push('opacity');
      if (s.willChange !== 'auto') why.push('will-change');
      if (s.mixBlendMode !== 'normal') why.push('mix-blend-mode');
      if (s.isolation === 'isolate') why.push('isolation');
      if (s.position === 'fixed' || s.position === 'sticky') why.push('position');
      if (s.contain !== 'none') why.push('contain');
      if (s.maskImage && s.maskImage !== 'none') why.push('mask');
      if (why.length) stacking.push({ img: img.getAttribute('src'), element: e.tagName, why });
    }
  }
  const rows = document.querySelectorAll('table tr[id]');
  const failed = [...rows].filter((r) => r.textContent.includes('failed:')).length;
  return { rows: rows.length, failed_rows: failed, images: imgs.length, broken,
    hdr_images: document.querySelectorAll('img.hdr').length, stacking };
});
await page.screenshot({ path: shot, fullPage: true });
await context.close();
fs.rmSync(process.env.TMPDIR, { recursive: true, force: true });
console.log(JSON.stringify(result));
process.exit(result.broken.length || result.stacking.length ? 1 : 0);
