#!/usr/bin/env node
// Browser test of the upload page (`regain serve`), with Debian's chromium driven by
// playwright-core: error message for a non-image, drop + upload of a sample, progress to a
// result, before/after comparison, download, screenshot, the iOS HDR stacking-context rule
// checked on the live DOM, and (Chromium's gain-map canvas probe, ../shared/docs) that the
// served result is rendered as HDR. Finally the server is stopped and must leave no files.
//
// usage: node service_page.mjs REGAIN_BINARY WORK_DIR   (run from tests/browser)
// Exit 0 when every check passed; prints one line per check.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [bin, workArg] = process.argv.slice(2);
if (!bin || !workArg) {
  console.error('usage: node service_page.mjs REGAIN_BINARY WORK_DIR');
  process.exit(64);
}
const work = path.resolve(workArg);
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
// Chromium's profile and playwright's scratch files stay inside the work directory.
process.env.TMPDIR = path.join(work, 'tmp');
fs.mkdirSync(process.env.TMPDIR);

// playwright-core from the current directory's node_modules (tests/browser), as the probe does.
let chromium;
try {
  ({ chromium } = createRequire(path.join(process.cwd(), 'noop.js'))('playwright-core'));
} catch {
  ({ chromium } = await import('playwright-core'));
}

let failures = 0;
const check = (ok, what, detail = '') => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
  if (!ok) failures++;
  return ok;
};

// ---- inputs -------------------------------------------------------------------------------
const samples = path.join(work, 'samples');
execFileSync(bin, ['samples', '--out', samples, '--width', '800', '--height', '600'], { stdio: 'ignore' });
const edited = path.join(samples, 'sunset_sdr.jpg');
const notImage = path.join(work, 'holiday.jpg');  // a text file with an image's name
fs.writeFileSync(notImage, 'This is a shopping list, not a photo.\n');

// ---- server -------------------------------------------------------------------------------
// Its own TMPDIR, so "nothing left on disk" can be checked exactly.
const serverTmp = path.join(work, 'server-tmp');
fs.mkdirSync(serverTmp);
const server = spawn(bin, ['serve', '--port', '0', '--workers', '2', '--ttl', '120', '--quiet'], {
  env: { ...process.env, TMPDIR: serverTmp }, stdio: ['ignore', 'pipe', 'inherit'],
});
const serverExit = new Promise((resolve) => server.on('exit', (code, sig) => resolve({ code, sig })));
const base = await new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 15000);
  server.stdout.on('data', (d) => {
    out += d;
    const m = /listening on (http:\/\/[^\s/]+)/.exec(out);
    if (m) { clearTimeout(timer); resolve(m[1]); }
  });
  server.on('exit', () => reject(new Error(`server exited: ${out}`)));
});
console.log(`server at ${base}`);

// ---- browser ------------------------------------------------------------------------------
const profile = fs.mkdtempSync(path.join(process.env.TMPDIR, 'profile-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  chromiumSandbox: false,
  acceptDownloads: true,
  viewport: { width: 1100, height: 900 },
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--enable-blink-features=CanvasGlobalHDRHeadroom'],
});
// No network beyond the loopback server.
await context.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
const page = context.pages()[0] || await context.newPage();
const consoleErrors = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(String(e)));

try {
  await page.goto(base + '/');
  check(await page.title() === 'regain: put HDR back into an edited photo', 'page loads');

  // The page tells whether the screen can show HDR, consistently with the media query.
  const hdr = await page.evaluate(() => ({
    matches: matchMedia('(dynamic-range: high)').matches,
    flag: document.getElementById('hdr-support').dataset.hdr,
    text: document.getElementById('hdr-support').textContent,
  }));
  check(hdr.flag === (hdr.matches ? 'yes' : 'no') && /HDR|dynamic range/.test(hdr.text),
    'HDR screen message follows (dynamic-range: high)', `${hdr.matches} -> "${hdr.text.slice(0, 60)}..."`);
  await page.waitForFunction(() => document.getElementById('limits').textContent.includes('MB'));
  check(true, 'limits shown', await page.textContent('#limits'));

  // 1. A text file named .jpg: a clear message, no result.
  check(await page.isDisabled('#go'), 'button disabled until a photo is chosen');
  await page.setInputFiles('#img', notImage);
  await page.click('#go');
  await page.waitForSelector('#error:not([hidden])', { timeout: 20000 });
  const err = await page.textContent('#error');
  check(/not a photo regain can use/.test(err) && /JPEG, PNG, TIFF, HEIC, AVIF or WebP/.test(err), 'error message for a non-image', err.slice(0, 90));
  check(await page.isHidden('#result'), 'no result shown after an error');

  // 2. The sample, dropped onto the drop zone (a real drop event with the file), boost set.
  const bytes = fs.readFileSync(edited).toString('base64');
  await page.evaluate(async (b64) => {
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bin], 'sunset_sdr.jpg', { type: 'image/jpeg' }));
    const zone = document.getElementById('drop-img');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, bytes);
  check((await page.textContent('#img-name')).startsWith('sunset_sdr.jpg') &&
    (await page.$eval('#img', (i) => i.files[0] && i.files[0].name)) === 'sunset_sdr.jpg', 'drop zone takes the file');
  check(await page.isHidden('#ref-clear'), '"Remove" only shows with an original chosen');
  check(await page.isHidden('#error'), 'choosing a new file clears the error');
  await page.uncheck('#boost-auto');
  await page.fill('#boost', '3');
  check((await page.textContent('#boost-value')) === '3.0 stops', 'boost slider');

  // Progress shows while the request runs (the response is held back a little so the
  // state is observable).
  await page.route('**/process', async (route) => {
    const resp = await route.fetch();
    await new Promise((r) => setTimeout(r, 300));
    await route.fulfill({ response: resp });
  });
  const processResponse = page.waitForResponse((r) => r.url().endsWith('/process'));
  await page.click('#go');
  await page.waitForSelector('#progress:not([hidden])', { timeout: 5000 });
  check(true, 'progress visible while processing', await page.textContent('#status'));
  const apiBody = await (await processResponse).json();
  await page.unroute('**/process');
  check(apiBody.mode === 'predictive' && Math.abs(apiBody.metadata.boost - 3) < 1e-9, 'API answer',
    `mode ${apiBody.mode}, boost ${apiBody.metadata.boost}`);
  await page.waitForSelector('#result:not([hidden])', { timeout: 30000 });
  const imgs = await page.evaluate(() => ['before', 'after'].map((id) => {
    const i = document.getElementById(id);
    return { id, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight, src: i.getAttribute('src') };
  }));
  check(imgs.every((i) => i.complete && i.w === 800 && i.h === 600), 'before/after images loaded', JSON.stringify(imgs));
  check(imgs[1].src === apiBody.results.hdr && imgs[0].src === apiBody.results.sdr_preview,
    'after = HDR result, before = SDR preview');
  check(await page.isHidden('#progress'), 'progress hidden when done');
  // "Where HDR is added" for SDR screens: the heat overlay, loaded, the photo's size, coloured
  // where the map lifts (the canvas reads it back: some pixels far from grey).
  const where = await page.evaluate(async () => {
    const i = document.getElementById('where');
    const c = document.createElement('canvas');
    c.width = i.naturalWidth;
    c.height = i.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(i, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let coloured = 0;
    for (let k = 0; k < d.length; k += 4) if (Math.max(d[k], d[k + 1], d[k + 2]) - Math.min(d[k], d[k + 1], d[k + 2]) > 60) coloured++;
    return { complete: i.complete, w: i.naturalWidth, h: i.naturalHeight, src: i.getAttribute('src'), coloured: coloured / (d.length / 4) };
  });
  check(where.complete && where.w === 800 && where.h === 600 && where.src === apiBody.results.where_hdr &&
    where.coloured > 0.005, '"where HDR is added" overlay shown and coloured', JSON.stringify(where));
  check(/Predictive mode/.test(await page.textContent('#summary')), 'summary', await page.textContent('#summary'));

  // The comparison clips the <img> itself and follows the slider.
  await page.fill('#split', '25');
  const clip = await page.$eval('#after', (i) => getComputedStyle(i).clipPath);
  check(clip === 'inset(0px 0px 0px 25%)', 'slider moves the clip on the <img>', clip);

  // 3. Download.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const saved = path.join(work, 'downloaded_' + download.suggestedFilename());
  await download.saveAs(saved);
  const got = fs.readFileSync(saved);
  const direct = Buffer.from(await (await page.request.get(base + apiBody.results.hdr)).body());
  check(download.suggestedFilename() === 'regain_hdr.jpg', 'download file name', download.suggestedFilename());
  check(got.length > 1000 && got[0] === 0xff && got[1] === 0xd8 && got.equals(direct), 'download is the HDR JPEG',
    `${got.length} bytes`);
  check(got.includes(Buffer.from('hdrgm')) && got.includes(Buffer.from('MPF')), 'downloaded file carries a gain map');

  // 4. Screenshot.
  await page.$eval('#result', (e) => e.scrollIntoView());
  const shot = path.join(work, 'service_page.png');
  await page.screenshot({ path: shot, fullPage: true });
  check(fs.statSync(shot).size > 10000, 'screenshot', shot);

  // 5. iOS Safari keeps HDR only for images outside stacking contexts and clips: check the
  // computed style of every ancestor of both result images.
  const violations = await page.evaluate(() => {
    const bad = [];
    const rules = {
      'overflow-x': (v) => v === 'visible', 'overflow-y': (v) => v === 'visible',
      'clip-path': (v) => v === 'none', clip: (v) => v === 'auto', transform: (v) => v === 'none',
      filter: (v) => v === 'none', 'backdrop-filter': (v) => v === 'none', perspective: (v) => v === 'none',
      opacity: (v) => Number(v) >= 1, 'z-index': (v) => v === 'auto', 'will-change': (v) => v === 'auto',
      isolation: (v) => v === 'auto', 'mix-blend-mode': (v) => v === 'normal',
      'mask-image': (v) => v === 'none', '-webkit-mask-image': (v) => v === 'none',
      contain: (v) => v === 'none', 'container-type': (v) => v === 'normal',
      'content-visibility': (v) => v === 'visible', position: (v) => v !== 'fixed' && v !== 'sticky',
      translate: (v) => v === 'none', rotate: (v) => v === 'none', scale: (v) => v === 'none',
    };
    let checked = 0;
    for (const id of ['before', 'after']) {
      for (let e = document.getElementById(id).parentElement; e; e = e.parentElement) {
        const cs = getComputedStyle(e);
        checked++;
        for (const [prop, ok] of Object.entries(rules)) {
          const v = cs.getPropertyValue(prop);
          if (v !== '' && !ok(v)) bad.push(`${id} < ${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}: ${prop}: ${v}`);
        }
      }
    }
    return { bad, checked };
  });
  check(violations.checked >= 8 && violations.bad.length === 0,
    `no ancestor of the result images creates a stacking context or clips (${violations.checked} ancestors)`,
    violations.bad.join('; '));

  // 6. The served HDR result is rendered with its gain map (canvas probe: draw the <img> at
  // headroom 0 and at full headroom; HDR shows as linear luminance above SDR white).
  const probe = await page.evaluate(() => {
    const img = document.getElementById('after');
    const w = 256, h = Math.round((256 * img.naturalHeight) / img.naturalWidth);
    const render = (headroom) => {
      const c = document.createElement('canvas');
      c.width = w; c.height = h;
      const ctx = c.getContext('2d', { colorType: 'float16' });
      if (!ctx || (ctx.getContextAttributes?.() || {}).colorType !== 'float16') return { env: 'no float16 canvas' };
      if (!('globalHDRHeadroom' in ctx)) return { env: 'ctx.globalHDRHeadroom missing (CanvasGlobalHDRHeadroom)' };
      ctx.globalHDRHeadroom = headroom;
      ctx.drawImage(img, 0, 0, w, h);
      const d = ctx.getImageData(0, 0, w, h, { pixelFormat: 'rgba-float32' }).data;
      if (!(d instanceof Float32Array)) return { env: 'no rgba-float32 readback' };
      const lin = (v) => (v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
      let peak = 0;
      for (let i = 0; i < d.length; i += 4) peak = Math.max(peak, 0.2126 * lin(d[i]) + 0.7152 * lin(d[i + 1]) + 0.0722 * lin(d[i + 2]));
      return { peak };
    };
    const sdr = render(0), full = render(Infinity);
    return { env: sdr.env || full.env, sdr: sdr.peak, hdr: full.peak };
  });
  if (probe.env) {
    check(false, 'HDR probe available', `${probe.env}: cannot verify the gain map is applied`);
  } else {
    check(probe.hdr > 1.05 && probe.hdr > probe.sdr * 1.02, 'Chromium applies the served result as HDR',
      `peak luminance ${probe.sdr.toFixed(3)} at headroom 0, ${probe.hdr.toFixed(3)} at full headroom`);
  }

  // 7. A busy server (503 + Retry-After, simulated here) gives a retry hint on the page.
  await page.route('**/process', (route) => route.fulfill({
    status: 503, headers: { 'Retry-After': '7', 'Content-Type': 'application/json' },
    body: JSON.stringify({ error: { code: 'busy', message: 'all workers are busy' } }),
  }));
  await page.click('#go');
  await page.waitForSelector('#error:not([hidden])');
  const busyText = await page.textContent('#error');
  check(/busy/.test(busyText) && /7 seconds/.test(busyText), '503 message with Retry-After', busyText);
  await page.unroute('**/process');

  // Chromium logs every 4xx/5xx response as "Failed to load resource"; the 400 and 503 above
  // are deliberate. Anything else (a script error) fails.
  const scriptErrors = consoleErrors.filter((e) => !/^Failed to load resource: the server responded with a status of (400|503)/.test(e));
  check(scriptErrors.length === 0, 'no script errors', scriptErrors.join(' | '));
} catch (e) {
  check(false, 'browser run', e.stack || String(e));
} finally {
  await context.close().catch(() => {});
  server.kill('SIGTERM');
}

// ---- the server leaves nothing behind --------------------------------------------------------
const { code, sig } = await serverExit;
check(code === 0, 'server stops cleanly on SIGTERM', `exit ${code} ${sig || ''}`);
const left = fs.readdirSync(serverTmp);
check(left.length === 0, 'no upload or result left on disk', left.join(', '));

console.log(`service page: ${failures === 0 ? 'all checks passed' : `${failures} check(s) failed`}`);
fs.rmSync(process.env.TMPDIR, { recursive: true, force: true });
process.exit(failures === 0 ? 0 : 1);
