'use strict';
// End-to-end test of the editor as a user drives it with mouse and keyboard: the editor opens
// once the analysis exists, the timeline seeks (click, arrows) and shows the frame under the
// pointer, a click on a person in the player
// follows them (export checked), dragging the crop window pins a framing (export checked from the
// report's crop_path and from pixels), the exported file plays beside the source (before/after),
// people have thumbnails, undo/redo, and the edits come back after a reload.
// Screenshots (wide, phone-sized, dark mode) are saved in tests/artifacts/editor-*.png, and an
// accessibility audit (axe-core) of each finds nothing serious.
//
// Run: tests/run-e2e tests/editor.test.js

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { REPO_ROOT, ensureSite, clipOrSkip } = require('./lib/suite');
const { openSite, reframe, finishJob } = require('./lib/site');
const { cropPsnr, countFrames } = require('./lib/probe');
const { MIN_PSNR_DB } = require('./lib/checks');
const { outDir } = require('./lib/run-headless');
const { audit } = require('./lib/axe');

const TEST_TIMEOUT_MS = 20 * 60 * 1000;
const ARTIFACTS = path.join(REPO_ROOT, 'tests/artifacts');

const currentTime = (page) => page.evaluate(() => document.querySelector('#preview-video').currentTime);
const editorState = (page) => reframe(page, 'editor');

/** Seeks the player like the page's own controls would, and waits for the frame. */
async function seekTo(page, s) {
  await page.evaluate((x) => new Promise((resolve) => {
    const v = document.querySelector('#preview-video');
    v.addEventListener('seeked', () => resolve(), { once: true });
    v.currentTime = x;
  }), s);
}

/** The element's box in the viewport (mouse coordinates), scrolled into view first. */
async function boxOf(page, selector) {
  await page.locator(selector).scrollIntoViewIfNeeded();
  return page.locator(selector).boundingBox();
}

/** The accessibility audit (axe-core) finds nothing serious in the page as it is now. */
async function noSeriousFindings(t, page, label) {
  const found = await audit(page);
  assert.deepEqual(found.serious, [], `${label}: serious accessibility findings`);
  t.diagnostic(`${label}: ${found.all.length ? found.all.join('; ') : 'no accessibility findings'}`);
}

/** Saves the output of the finished job (the Download link) to `file`. */
async function download(page, file) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  await dl.saveAs(file);
}

test('editor: seek on the timeline, click a person to follow, drag a pin, undo/redo, export each, edits kept after a reload', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await ensureSite('editor');
  const input = await clipOrSkip(t, 'vtest-short');
  if (!input) return;
  const dir = outDir('editor');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const { page, open } = await openSite(t, REPO_ROOT);
  await page.selectOption('#mode', 'auto');
  await page.setInputFiles('#file-input', input);
  await page.click('#start');
  // The editor opens as soon as the analysis exists (before the encode ends).
  await page.waitForFunction(() => window.__reframe && window.__reframe.editor, null, { timeout: 600000 });
  const first = await finishJob(page, assert);
  assert.ok(await page.isVisible('#editor') && await page.isVisible('#timeline'));
  // Once exported, the file plays beside the source; unticked, the live cropped preview is back.
  assert.ok(await page.isVisible('#result-video') && !(await page.isVisible('#crop-preview')));
  await page.click('#show-output');
  assert.ok(!(await page.isVisible('#result-video')) && await page.isVisible('#crop-preview'));
  assert.equal(await page.getAttribute('#preview-video', 'controls'), null, 'the editor\'s own controls replace the native ones');
  // vtest-short: 768x576 at 10 fps, 6 s; a 9:16 window is 324x576.
  assert.equal(first.crop_path.length, 60);

  // The timeline: a click seeks there; arrows step a frame, Shift+arrows a second.
  const tl = await boxOf(page, '#timeline');
  await page.mouse.click(tl.x + tl.width * 0.25, tl.y + tl.height / 2);
  await page.waitForFunction(() => Math.abs(document.querySelector('#preview-video').currentTime - 1.5) < 0.05, null, { timeout: 5000 });
  // Hovering shows the frame under the pointer above the timeline (the player stays put).
  await page.mouse.move(tl.x + tl.width * 0.75, tl.y + tl.height / 2);
  await page.waitForFunction(() => window.__reframe.scrub && Math.abs(window.__reframe.scrub.t_s - 4.5) < 0.05, null, { timeout: 5000 });
  await page.waitForSelector('#scrub:not([hidden])', { timeout: 5000 });
  const scrub = await reframe(page, 'scrub');
  await page.screenshot({ path: path.join(ARTIFACTS, 'editor-scrub.png') });
  assert.match(await page.textContent('#scrub-time'), /^0:04\.5$/);
  assert.ok(Math.abs((await currentTime(page)) - 1.5) < 0.05, 'hovering does not move the player');
  t.diagnostic(`timeline hover: the frame at ${scrub.t_s} s shown ${scrub.ms.toFixed(0)} ms after the pointer moved`);
  await page.mouse.move(tl.x + tl.width / 2, tl.y - 200);
  await page.waitForSelector('#scrub', { state: 'hidden', timeout: 5000 });
  await page.focus('#timeline');
  const t0 = await currentTime(page);
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((x) => Math.abs(document.querySelector('#preview-video').currentTime - x) < 0.01, t0 + 0.1, { timeout: 5000 });
  await page.keyboard.press('Shift+ArrowRight');
  await page.waitForFunction((x) => Math.abs(document.querySelector('#preview-video').currentTime - x) < 0.01, t0 + 1.1, { timeout: 5000 });
  await page.keyboard.press('Shift+ArrowLeft');
  await page.waitForFunction((x) => Math.abs(document.querySelector('#preview-video').currentTime - x) < 0.01, t0 + 0.1, { timeout: 5000 });

  // The cropped preview shows the picture (not a blank canvas).
  const spread = await page.evaluate(() => {
    const c = document.querySelector('#crop-preview');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let lo = 255, hi = 0;
    for (let i = 0; i < d.length; i += 4 * 97) { lo = Math.min(lo, d[i + 1]); hi = Math.max(hi, d[i + 1]); }
    return hi - lo;
  });
  assert.ok(spread > 40, `the cropped preview has a picture (green spread ${spread})`);

  // Click a person in the player who is not the one followed: the editor follows them.
  const shown = (x) => x.boxes.filter((b) => b.score >= 0.3);
  const candidates = first.detections.filter((x) => shown(x).length >= 3);
  assert.ok(candidates.length > 0, 'an analysed frame with three people');
  let target = null;
  await boxOf(page, '#stage');
  for (const d of candidates) {
    await seekTo(page, d.timestamp_us / 1e6);
    await page.waitForFunction(() => document.querySelectorAll('#boxes div').length >= 2, null, { timeout: 5000 }).catch(() => {});
    const boxes = await page.$$eval('#boxes div', (divs) => divs.map((b) => ({ id: Number(b.dataset.trackId), subject: b.classList.contains('subject'), r: b.getBoundingClientRect().toJSON() })));
    const inside = (r, x, y) => x >= r.x && x <= r.x + r.width && y >= r.y && y <= r.y + r.height;
    target = boxes.find((b) => !b.subject && boxes.filter((o) => inside(o.r, b.r.x + b.r.width / 2, b.r.y + b.r.height / 2)).length === 1);
    if (target) break;
  }
  assert.ok(target, 'a person who is not followed, clear of other boxes');
  await page.mouse.click(target.r.x + target.r.width / 2, target.r.y + target.r.height / 2);
  await page.waitForFunction((id) => window.__reframe.editor.edits.subject_track === id, target.id, { timeout: 5000 });
  assert.equal(await page.inputValue('#subject'), String(target.id), 'the form holds the choice');
  await page.waitForSelector(`#boxes div.subject[data-track-id="${target.id}"]`, { timeout: 5000 });
  assert.equal(await page.getAttribute(`#people-list button[data-track-id="${target.id}"]`, 'aria-pressed'), 'true');
  await page.click('#start');
  const followed = await finishJob(page, assert);
  assert.match(followed.backend, /^reused/, 'no new detection');
  assert.equal(followed.subject_track, target.id);
  assert.ok(followed.layout.some((p) => p.subject_track === target.id), `a part follows person ${target.id}: ${JSON.stringify(followed.layout)}`);
  const person = followed.people.find((p) => p.track_id === target.id);
  if (person) {
    const at = followed.crop_path.reduce((best, c) => (Math.abs(c.timestamp_us - person.best_us) < Math.abs(best.timestamp_us - person.best_us) ? c : best));
    const cx = person.best_box.x + person.best_box.width / 2;
    assert.ok(cx >= at.x && cx <= at.x + at.width, `person ${target.id} (centre ${cx}) inside the crop ${JSON.stringify(at)}`);
  }
  t.diagnostic(`followed person ${target.id}: ${followed.crop_path.filter((c, i) => c.x !== first.crop_path[i].x).length} of 60 crops moved`);

  // Drag the crop window at 3 s to pin a framing there.
  await seekTo(page, 3.0);
  const before = (await editorState(page)).now;
  const stage = await boxOf(page, '#stage');
  const box = await page.locator('#crop-overlay').boundingBox();
  const scale = 768 / stage.width;
  const dxCss = before.x > 222 ? -Math.round(150 / scale) : Math.round(150 / scale);
  const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  await page.mouse.move(cx + dxCss / 2, cy, { steps: 4 });
  await page.mouse.move(cx + dxCss, cy, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => (window.__reframe.editor.edits.pins || []).length === 1, null, { timeout: 5000 });
  const ed = await editorState(page);
  const pin = ed.edits.pins[0];
  const wantX = Math.min(444, Math.max(0, before.x + dxCss * scale));
  t.diagnostic(`dragged ${dxCss} CSS px: window x ${before.x} -> pin ${JSON.stringify(pin)} (about ${wantX.toFixed(0)} expected); re-planned in ${ed.last_plan_ms} ms`);
  assert.ok(Math.abs(pin.t_us - 3e6) <= 1000, `pinned at the moment shown: ${pin.t_us}`);
  assert.ok(Math.abs(pin.x - wantX) <= 6 && pin.y === 0 && pin.x % 2 === 0, `pin where dropped: ${JSON.stringify(pin)}`);
  assert.deepEqual([ed.now.x, ed.now.y], [pin.x, pin.y], 'the re-planned window is at the pin');
  assert.equal(await page.inputValue('#pins'), `3:${pin.x},${pin.y}`, 'the form holds the pin');
  assert.equal(await page.isDisabled('#reset-shot'), false);

  // Undo and redo (keyboard), then the timeline shows the pin (screenshot).
  await page.keyboard.press('Control+z');
  await page.waitForFunction(() => (window.__reframe.editor.edits.pins || []).length === 0, null, { timeout: 5000 });
  assert.equal(await page.inputValue('#pins'), '');
  await page.keyboard.press('Control+Shift+Z');
  await page.waitForFunction(() => (window.__reframe.editor.edits.pins || []).length === 1, null, { timeout: 5000 });
  assert.deepEqual((await editorState(page)).edits.pins[0], pin);
  await page.screenshot({ path: path.join(ARTIFACTS, 'editor-wide.png'), fullPage: true });
  await noSeriousFindings(t, page, 'editor, wide');

  // Export with the pin: the frames within 0.1 s of it show it exactly, the path stays smooth.
  await page.click('#start');
  const pinned = await finishJob(page, assert);
  const out = path.join(dir, 'pinned.mp4');
  await download(page, out);
  const cp = pinned.crop_path;
  assert.equal(cp.length, 60);
  const near = cp.map((c, n) => ({ c, n })).filter(({ c }) => c.timestamp_us >= pin.t_us && c.timestamp_us - pin.t_us <= 100000);
  assert.ok(near.length >= 1, 'the pinned frame');
  for (const { c, n } of near) assert.deepEqual([c.x, c.y], [pin.x, pin.y], `frame ${n} at the pin: ${JSON.stringify(c)}`);
  const steps = cp.slice(1).map((c, i) => Math.abs(c.x - cp[i].x));
  t.diagnostic(`crop x per frame: ${cp.map((c) => c.x).join(' ')}`);
  assert.ok(Math.max(...steps) <= 90, `no jump: largest step ${Math.max(...steps)} px a frame`);
  const groups = near.map(({ n }) => ({ rect: { x: pin.x, y: pin.y, width: 324, height: 576 }, frames: [n] }));
  for (const p of await cropPsnr(input, out, groups)) {
    assert.ok(p.psnr_y >= MIN_PSNR_DB, `frame ${p.frame}: ${p.psnr_y} dB against the pinned crop`);
  }
  assert.equal(await countFrames(out), 60);

  // Before / after: the exported file plays beside the source, in step with it.
  assert.ok(await page.isVisible('#result-video') && !(await page.isVisible('#crop-preview')), 'the exported video replaces the cropped preview');
  assert.equal(await page.isChecked('#show-output'), true);
  await seekTo(page, 2.0);
  await page.evaluate(() => document.querySelector('#preview-video').play());
  await page.waitForTimeout(1500);
  const [src, res] = await page.evaluate(() => [document.querySelector('#preview-video').currentTime, document.querySelector('#result-video').currentTime]);
  await page.evaluate(() => document.querySelector('#preview-video').pause());
  t.diagnostic(`playing: source at ${src.toFixed(2)} s, exported video at ${res.toFixed(2)} s`);
  assert.ok(src > 2.5 && Math.abs(src - res) < 0.3, `in step: source ${src} s, output ${res} s`);
  await seekTo(page, 3.0);
  await page.waitForFunction(() => Math.abs(document.querySelector('#result-video').currentTime - 3.0) < 0.05, null, { timeout: 5000 });
  // Each person in the list has a thumbnail drawn from the video.
  await page.waitForFunction(() => {
    const cs = [...document.querySelectorAll('#people-list canvas.thumb')];
    const drawn = (c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 16) if (d[i] > 0) return true; return false; };
    return cs.length >= 2 && cs.every(drawn);
  }, null, { timeout: 30000 });
  await page.screenshot({ path: path.join(ARTIFACTS, 'editor-before-after.png'), fullPage: true });

  // A reload keeps the edits: the same file and settings restore them into the editor and form.
  const saved = (await editorState(page)).edits;
  await open(page);
  await page.selectOption('#mode', 'auto');
  await page.setInputFiles('#file-input', input);
  // The stored analysis opens the editor as soon as the file is chosen, before Start.
  await page.waitForFunction(() => window.__reframe && window.__reframe.editor, null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready', 'no job was started');
  assert.deepEqual((await editorState(page)).edits, saved, 'the edits came back');
  assert.equal(await page.inputValue('#pins'), `3:${pin.x},${pin.y}`);
  assert.equal(await page.inputValue('#subject'), String(target.id));
  // Start exports them: the job with these edits is the one stored earlier.
  await page.click('#start');
  const again = await finishJob(page, assert);
  assert.deepEqual(again.crop_path, pinned.crop_path, 'the pinned export');

  // Screenshots: phone-sized and dark mode.
  await seekTo(page, 3.0);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(ARTIFACTS, 'editor-phone.png'), fullPage: true });
  await noSeriousFindings(t, page, 'editor, phone');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(ARTIFACTS, 'editor-dark.png'), fullPage: true });
  await noSeriousFindings(t, page, 'editor, dark');
});
