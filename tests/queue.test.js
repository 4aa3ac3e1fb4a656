'use strict';
// The queue (issue 19): five files chosen at once, a bad one in the middle. The bad one fails
// alone with its message and the others go on; a reload in the middle keeps the queue (the
// finished ones stay finished, the one that was running waits again), the files are chosen again
// and the queue finishes; every output is downloaded and checked with ffprobe, and so is each
// member of "Download all" (one ZIP, checked with Python's zipfile). Screenshots:
// tests/artifacts/queue-{running,reloaded,done,dark,phone}.png (the last three audited with axe-core).
//
// Run: tests/run-e2e tests/queue.test.js

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { REPO_ROOT, ensureSite, clipOrSkip } = require('./lib/suite');
const { openSite } = require('./lib/site');
const { countFrames } = require('./lib/probe');
const { outDir } = require('./lib/run-headless');
const { run } = require('./lib/proc');
const { audit } = require('./lib/axe');

const ARTIFACTS = path.join(REPO_ROOT, 'tests/artifacts');

const items = (page) => page.$$eval('#queue li', (lis) => lis.map((li) => ({
  state: li.dataset.state, text: li.querySelector('.queue-text').textContent,
})));

test('queue: five files with a bad one in the middle: four made, one error; a reload in the middle resumes the queue; every output and the ZIP of all checked; a folder adds its videos', { timeout: 15 * 60 * 1000 }, async (t) => {
  await ensureSite('queue');
  const names = ['vtest-1s', 'h264-1080p30', 'text-file', 'tiny-64x36', 'vtest-3s'];
  const files = [];
  for (const n of names) {
    const f = await clipOrSkip(t, n);
    if (!f) return;
    files.push(f);
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const dir = outDir('queue');
  const { page, open } = await openSite(t, REPO_ROOT);
  await page.selectOption('#ratio', '1:1');
  await page.setInputFiles('#file-input', files);
  await page.waitForSelector('#queue-panel:not([hidden])');
  assert.equal((await items(page)).length, 5);

  // The first one made, the second under way: reload.
  await page.waitForFunction(() => document.querySelector('#queue li[data-state="done"]'), null, { timeout: 120000 });
  await page.screenshot({ path: path.join(ARTIFACTS, 'queue-running.png'), fullPage: true });
  await open(page);
  const after = await items(page);
  assert.equal(after.length, 5, JSON.stringify(after));
  assert.equal(after[0].state, 'done', 'the finished one stays finished');
  assert.ok(after.slice(1).every((i) => ['waiting', 'done', 'failed'].includes(i.state)), JSON.stringify(after));
  assert.match(await page.textContent('#queue-status'), /wait for their files: choose or drop them again/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'queue-reloaded.png'), fullPage: true });

  // The same five files again: the made ones are not queued twice.
  await page.setInputFiles('#file-input', files);
  await page.waitForFunction(() => {
    const lis = [...document.querySelectorAll('#queue li')];
    return lis.length === 5 && lis.every((li) => ['done', 'failed'].includes(li.dataset.state));
  }, null, { timeout: 600000 });
  const end = await items(page);
  await page.screenshot({ path: path.join(ARTIFACTS, 'queue-done.png'), fullPage: true });
  assert.deepEqual(end.map((i) => i.state), ['done', 'done', 'failed', 'done', 'done'], JSON.stringify(end));
  assert.match(end[2].text, /failed: .{10,}/, 'the bad file has its message');
  assert.match(await page.textContent('#queue-status'), /^4 of 5 done, 1 failed\./);

  // Each output, downloaded from its line: every frame of its input, 1:1.
  const downloads = await page.$$('#queue li[data-state="done"] .queue-download');
  assert.equal(downloads.length, 4);
  const good = files.filter((_, i) => i !== 2);
  for (const [i, button] of downloads.entries()) {
    const [dl] = await Promise.all([page.waitForEvent('download'), button.click()]);
    const out = path.join(dir, `queue-${i}.mp4`);
    await dl.saveAs(out);
    const [frames, expected] = [await countFrames(out), await countFrames(good[i])];
    assert.equal(frames, expected, `${names.filter((_, j) => j !== 2)[i]}: every frame`);
    t.diagnostic(`${path.basename(good[i])}: ${frames} frames -> ${dl.suggestedFilename()}`);
  }
  // "Download all": one ZIP of the four, streamed from their stored files; each member checked.
  const [zip] = await Promise.all([page.waitForEvent('download', { timeout: 120000 }), page.click('#queue-zip')]);
  assert.equal(zip.suggestedFilename(), 'reframe-videos.zip');
  const zipPath = path.join(dir, 'reframe-videos.zip');
  await zip.saveAs(zipPath);
  const unzipped = path.join(dir, 'unzipped');
  fs.rmSync(unzipped, { recursive: true, force: true });
  const listed = await run('python3', ['-c', 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nz.extractall(sys.argv[2])\nprint("\\n".join(z.namelist()))', zipPath, unzipped]);
  assert.equal(listed.code, 0, listed.stderr);
  const members = listed.stdout.trim().split('\n');
  assert.equal(members.length, 4, listed.stdout);
  for (const [i, name] of members.entries()) {
    assert.equal(await countFrames(path.join(unzipped, name)), await countFrames(good[i]), `${name} in the ZIP: every frame`);
  }
  t.diagnostic(`ZIP: ${members.join(', ')} (${fs.statSync(zipPath).size} bytes)`);
  t.diagnostic(`queue: ${end.map((i) => i.text).join(' | ')}`);

  // A folder: its videos join the queue in the order of their names, its other files are left out.
  const folder = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'reframe-folder-'));
  t.after(() => fs.rmSync(folder, { recursive: true, force: true }));
  fs.copyFileSync(files[3], path.join(folder, 'b.mp4'));
  fs.copyFileSync(files[4], path.join(folder, 'a.mp4'));
  fs.writeFileSync(path.join(folder, 'notes.txt'), 'not a video');
  await page.setInputFiles('#folder-input', folder);
  await page.waitForFunction(() => {
    const lis = [...document.querySelectorAll('#queue li')];
    return lis.length === 7 && lis.every((li) => ['done', 'failed'].includes(li.dataset.state));
  }, null, { timeout: 120000 });
  const withFolder = (await items(page)).slice(5).map((i) => `${i.text.split(' → ')[0]} ${i.state}`);
  assert.deepEqual(withFolder, ['a.mp4 done', 'b.mp4 done']);

  // The finished queue in dark mode and a phone-sized window: screenshots, and an audit each.
  for (const [name, setup] of [
    ['done', async () => {}],
    ['dark', async () => page.emulateMedia({ colorScheme: 'dark' })],
    ['phone', async () => page.setViewportSize({ width: 390, height: 844 })],
  ]) {
    await setup();
    await page.waitForTimeout(200);
    if (name !== 'done') await page.screenshot({ path: path.join(ARTIFACTS, `queue-${name}.png`), fullPage: true });
    const found = await audit(page);
    assert.deepEqual(found.serious, [], `queue, ${name}: serious accessibility findings`);
  }
});
