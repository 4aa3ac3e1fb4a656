'use strict';
// End-to-end tests of resuming: a job survives page reloads and a browser crash, resumes from its
// stored chunks, and ends in the same MP4 as an uninterrupted run. Also: a different file is
// refused on resume, a second tab cannot run the same job, a damaged stored record is redone.
//
// Run: tests/run-e2e tests/resume.test.js

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const media = require('./media');
const { REPO_ROOT, BUILD_ARGS, ensureSite: buildSite, clipOrSkip } = require('./lib/suite');
const { runHeadless, outDir, tail } = require('./lib/run-headless');
const { openSite: openSiteAt, state, reframe } = require('./lib/site');
const { probe, countFrames } = require('./lib/probe');
const { run } = require('./lib/proc');

const JOB_TIMEOUT_S = 900;
const TEST_TIMEOUT_MS = 2 * (JOB_TIMEOUT_S + 300) * 1000;
// Small chunks so that a 20 s clip has ten of them.
const CHUNK_S = 2;
const ensureSite = () => buildSite('resume');

/** MD5 of every decoded video frame (ffmpeg framemd5), one line per frame. */
async function frameHashes(file) {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', file, '-map', '0:v:0', '-f', 'framemd5', '-']);
  return stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop().trim());
}

/** The lowest per-frame PSNR (dB, Infinity when identical) between two videos of equal length. */
async function minPsnr(a, b, dir) {
  const stats = path.join(dir, 'psnr.txt');
  await run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', a, '-i', b, '-lavfi',
    `[0:v][1:v]psnr=stats_file=${stats}`, '-f', 'null', '-'], { check: true });
  const values = fs.readFileSync(stats, 'utf8').split('\n').filter(Boolean)
    .map((l) => (/psnr_avg:(\S+)/.exec(l) || [])[1]).map((v) => (v === 'inf' ? Infinity : Number(v)));
  assert.ok(values.length > 0, 'psnr compared frames');
  return { frames: values.length, min: Math.min(...values) };
}

/** Decoded frames equal an uninterrupted run's: identical, or PSNR >= 40 dB on every frame
 *  (the browser's H.264 encoder is not bit-exact across runs at every size). */
async function assertSameFrames(t, once, resumed, frames, dir) {
  const [a, b] = [await frameHashes(once), await frameHashes(resumed)];
  assert.equal(a.length, frames);
  assert.equal(b.length, frames);
  const same = a.filter((h, i) => h === b[i]).length;
  if (same === frames) {
    t.diagnostic(`all ${frames} decoded frames identical to the uninterrupted run`);
    return;
  }
  const p = await minPsnr(once, resumed, dir);
  t.diagnostic(`${same} of ${frames} decoded frames identical; lowest PSNR against the uninterrupted run ${p.min.toFixed(1)} dB`);
  assert.equal(p.frames, frames);
  assert.ok(p.min >= 40, `lowest PSNR ${p.min} dB`);
}

async function job(name, dir, input, extra) {
  const out = path.join(dir, 'out.mp4');
  const report = path.join(dir, 'report.json');
  const args = ['--input', input, '--out', out, '--report', report, '--timeout-s', String(JOB_TIMEOUT_S),
    '--chunk-s', String(CHUNK_S), '--keep-browser-log', path.join(dir, 'browser.log'), ...BUILD_ARGS, ...extra];
  const r = await runHeadless(args, { reportPath: report, timeoutMs: (JOB_TIMEOUT_S + 120) * 1000 });
  assert.equal(r.code, 0, `${name}: process-headless exited ${r.code}; see ${dir}\n${tail(r.stderr)}`);
  return { out, report: r.report, dir };
}

test('auto mode survives reloads in both passes and a browser crash, and gives the same MP4 as one run', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await ensureSite();
  const input = await clipOrSkip(t, 'vtest-20s');
  if (!input) return;
  const settings = ['--mode', 'auto', '--profile', 'fast', '--ratio', '9:16'];
  const once = await job('uninterrupted', outDir('resume-once'), input, settings);
  const resumed = await job('interrupted', outDir('resume-reloads'), input,
    [...settings, '--reload-at', '0.08,0.16,0.32,0.4,0.52,0.7', '--restart-browser-at', '0.24']);

  // Overall progress gives each pass half, but the encode pass is much the shorter one (about a
  // second here): points in it are passed in a few progress steps, and the last may only be
  // passed while finishing, when process-headless does not interrupt (reported as missed).
  const reloads = resumed.report.reloads;
  t.diagnostic(`interruptions: ${JSON.stringify(reloads.map((r) => ({ kind: r.kind, at: r.at_progress, stage: r.stage, redone: r.frames_redone })))}`);
  t.diagnostic(`missed: ${JSON.stringify(resumed.report.interruptions_missed)}`);
  assert.ok(reloads.length >= 6, `${reloads.length} interruptions happened`);
  assert.ok(reloads.some((r) => r.kind === 'restart_browser'), 'one browser restart');
  assert.ok(reloads.some((r) => r.stage === 'analysing') && reloads.some((r) => r.stage === 'processing'), 'interruptions in both passes');
  const chunkFrames = 10 * CHUNK_S; // vtest is 10 fps
  for (const r of reloads) {
    assert.ok(r.frames_redone <= chunkFrames, `at most one chunk redone: ${JSON.stringify(r)}`);
  }

  // Same frames, same path, same pictures.
  assert.equal(resumed.report.frames_out, 200);
  assert.equal(await countFrames(resumed.out), 200);
  // The frames the detector saw (chosen per chunk where the picture moves) are the same too.
  const seen = (r) => r.report.detections.map((d) => d.timestamp_us);
  assert.deepEqual(seen(resumed), seen(once), 'the same analysed frames');
  assert.deepEqual(resumed.report.crop_path, once.report.crop_path, 'the same crop path');
  assert.deepEqual(resumed.report.cuts_us, once.report.cuts_us, 'the same cuts');
  await assertSameFrames(t, once.out, resumed.out, 200, resumed.dir);
  const info = await probe(resumed.out);
  assert.ok(info.audio, 'audio kept');
});

test('fixed crop: reloads during encoding resume from the last stored segment', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await ensureSite();
  const input = await media.clipPath('h264-1080p30');
  const once = await job('uninterrupted', outDir('resume-fixed-once'), input, ['--ratio', '9:16', '--chunk-s', '1']);
  const resumed = await job('interrupted', outDir('resume-fixed'), input, ['--ratio', '9:16', '--chunk-s', '1', '--reload-at', '0.3,0.6']);
  t.diagnostic(`interruptions: ${JSON.stringify(resumed.report.reloads.map((r) => ({ at: r.at_progress, redone: r.frames_redone })))}`);
  assert.ok(resumed.report.reloads.length >= 2, JSON.stringify(resumed.report.reloads));
  for (const r of resumed.report.reloads) assert.ok(r.frames_redone <= 30, `at most one chunk redone: ${JSON.stringify(r)}`);
  assert.equal(await countFrames(resumed.out), 300);
  await assertSameFrames(t, once.out, resumed.out, 300, resumed.dir);
});

const openSite = async (t) => {
  await ensureSite();
  return openSiteAt(t, REPO_ROOT, '?chunk_s=1');
};

async function waitProgress(page, fraction) {
  await page.waitForFunction((f) => {
    const p = (window.__reframe || {}).progress;
    return p && p.stage === 'processing' && p.frames_total && p.frames_done / p.frames_total >= f;
  }, fraction, { timeout: 300000, polling: 50 });
}

async function resumeWith(page, jobId, file) {
  const button = `li.job[data-job-id="${jobId}"] button.job-resume`;
  await page.waitForSelector(button, { timeout: 60000 });
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click(button)]);
  await chooser.setFiles(file);
}

test('resuming with a different file is refused with a clear message; the right file resumes', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const input = await media.clipPath('h264-1080p30');
  const other = await media.clipPath('h264-bframes');
  const { page, open } = await openSite(t);
  await page.setInputFiles('#file-input', input);
  await page.click('#start');
  await waitProgress(page, 0.3);
  const jobId = (await reframe(page, 'started')).job_id;
  await open(page); // reload
  await resumeWith(page, jobId, other);
  await page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 60000 });
  const err = await reframe(page, 'error');
  assert.equal(err.code, 'wrong_file', JSON.stringify(err));
  assert.match(err.message, /not the file of the job/);
  t.diagnostic(`wrong file: ${err.message}`);
  // The job is untouched: resume with the right file and finish.
  await resumeWith(page, jobId, input);
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, { timeout: 600000 });
  assert.equal(await state(page), 'done', JSON.stringify(await reframe(page, 'error')));
  const summary = await reframe(page, 'summary');
  assert.equal(summary.frames_out, 300);
  const started = await reframe(page, 'started');
  assert.ok(started.resumed && started.resumed.encode_from_frame > 0, `resumed from stored segments: ${JSON.stringify(started)}`);
});

test('a second tab cannot process the same job at the same time', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const input = await media.clipPath('h264-1080p30');
  const { browser, page, open } = await openSite(t);
  // Auto mode at the QUALITY profile (10 analysed frames a second): the job runs for many seconds,
  // longer than a job waits for its lock (5 s, for a reloaded page's worker to let go of it).
  const autoJob = async (p) => {
    await p.selectOption('#mode', 'auto');
    await p.selectOption('#profile', 'quality');
    await p.setInputFiles('#file-input', input);
    await p.click('#start');
  };
  await autoJob(page);
  await page.waitForFunction(() => (window.__reframe || {}).started, null, { timeout: 120000 });
  const second = await browser.context.newPage();
  await open(second);
  await autoJob(second);
  await second.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, { timeout: 120000 });
  const err = await reframe(second, 'error');
  assert.equal(await state(second), 'error');
  assert.equal(err && err.code, 'job_busy', JSON.stringify(err));
  assert.equal(await state(page), 'running', 'the first tab was still at work when the second was refused');
  t.diagnostic(`second tab: ${err.message}`);
  // The first tab is not disturbed.
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, { timeout: 600000 });
  assert.equal(await state(page), 'done', JSON.stringify(await reframe(page, 'error')));
  await second.close();
});

test('a damaged stored segment record is found and only that chunk is redone', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const input = await media.clipPath('h264-1080p30');
  const { page, open } = await openSite(t);
  await page.setInputFiles('#file-input', input);
  await page.click('#start');
  await waitProgress(page, 0.5);
  const jobId = (await reframe(page, 'started')).job_id;
  await open(page); // reload
  // Damage the record of segment 1 (as if the browser died while writing it).
  const damaged = await page.evaluate((id) => new Promise((resolve, reject) => {
    const req = indexedDB.open('reframe');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const tx = req.result.transaction('segments', 'readwrite');
      const store = tx.objectStore('segments');
      const get = store.get([id, 1]);
      get.onsuccess = () => {
        const bytes = new Uint8Array(get.result);
        bytes[bytes.length >> 1] ^= 0xff;
        store.put(bytes, [id, 1]);
      };
      tx.oncomplete = () => resolve(true);
      tx.onerror = () => reject(tx.error);
    };
  }), jobId);
  assert.ok(damaged);
  await resumeWith(page, jobId, input);
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, { timeout: 600000 });
  assert.equal(await state(page), 'done', JSON.stringify(await reframe(page, 'error')));
  const started = await reframe(page, 'started');
  assert.equal(started.resumed.damaged_chunks, 1, JSON.stringify(started));
  assert.equal(started.resumed.encode_from_frame, 30, 'chunk 1 (frames 30..60) is redone first');
  const summary = await reframe(page, 'summary');
  assert.equal(summary.frames_out, 300);
  // The finished job is listed with a Download button, and deleting it empties the list.
  await page.waitForSelector(`li.job[data-job-id="${jobId}"][data-stage="done"] button.job-download`, { timeout: 30000 });
  await page.click(`li.job[data-job-id="${jobId}"] button.job-delete`);
  await page.waitForFunction((id) => !(window.__reframe.jobs || []).some((j) => j.id === id), jobId, { timeout: 30000 });
});

test('the cache limit deletes the least recently used finished video; the space used and allowed is shown, persistence can be asked; "delete all" empties storage', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const input = await media.clipPath('h264-bframes');
  const { page } = await openSite(t);
  const finish = async () => {
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, { timeout: 600000 });
    assert.equal(await state(page), 'done', JSON.stringify(await reframe(page, 'error')));
    return (await reframe(page, 'started')).job_id;
  };
  await page.setInputFiles('#file-input', input);
  await page.click('#start');
  const first = await finish();
  await page.waitForSelector(`li.job[data-job-id="${first}"][data-stage="done"]`, { timeout: 30000 });
  // Keep no finished video beyond the running one: the first is deleted when the second starts.
  await page.fill('#cache-limit', '0');
  await page.dispatchEvent('#cache-limit', 'change');
  await page.selectOption('#ratio', '1:1');
  await page.setInputFiles('#file-input', input);
  await page.click('#start');
  const second = await finish();
  assert.notEqual(first, second);
  await page.waitForFunction((ids) => {
    const jobs = (window.__reframe.jobs || []).map((j) => j.id);
    return jobs.includes(ids[1]) && !jobs.includes(ids[0]);
  }, [first, second], { timeout: 30000 });
  const files = () => page.evaluate(async () => {
    const names = [];
    const walk = async (dir, prefix) => {
      for await (const [name, h] of dir.entries()) {
        if (h.kind === 'directory') await walk(h, `${prefix}${name}/`);
        else names.push(`${prefix}${name}`);
      }
    };
    await walk(await navigator.storage.getDirectory(), '');
    return names;
  });
  const before = await files();
  assert.equal(before.filter((f) => f.startsWith('outputs/')).length, 1, `one output left: ${before}`);
  // Storage care: the space used and allowed, as the browser counts it; the request to keep it.
  const line = async () => (await page.textContent('#storage-line')).trim();
  await page.waitForFunction(() => /^Reframe stores [\d.]+ [KMG]?B here, of the [\d.]+ [KMG]?B this browser lets it use\./.test(document.getElementById('storage-line').textContent.trim()), null, { timeout: 10000 });
  const estimate = await page.evaluate(() => navigator.storage.estimate());
  const persisted = await page.evaluate(() => navigator.storage.persisted());
  assert.equal(await page.isVisible('#persist'), !persisted, 'the button to ask for persistence, until it is granted');
  if (!persisted) {
    await page.click('#persist');
    await page.waitForFunction(() => !document.getElementById('persist-help').hidden, null, { timeout: 10000 });
  }
  fs.mkdirSync(path.join(REPO_ROOT, 'tests/artifacts'), { recursive: true });
  await page.locator('#jobs-panel').screenshot({ path: path.join(REPO_ROOT, 'tests/artifacts/storage.png') });
  t.diagnostic(`${await line()} (estimate: usage ${estimate.usage}, quota ${estimate.quota}; persisted ${persisted}; after asking: ${await page.evaluate(() => navigator.storage.persisted())})`);
  // Delete all (confirming the dialog).
  page.once('dialog', (d) => d.accept());
  await page.click('#delete-all');
  await page.waitForFunction(() => (window.__reframe.jobs || []).length === 0, null, { timeout: 30000 });
  assert.deepEqual(await files(), [], 'no file left in OPFS');
  // Only the page itself stays kept (the service worker's cache, for offline use), without the
  // detector.
  const cached = await page.evaluate(async () => {
    const out = {};
    for (const name of await caches.keys()) out[name] = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
    return out;
  });
  const names = Object.keys(cached);
  assert.ok(names.every((n) => n.startsWith('reframe-app-')), `no cache left but the page's: ${names}`);
  assert.ok(Object.values(cached).flat().every((p) => !p.includes('reframe-detect-worker')), JSON.stringify(cached));
});

test('detector weights: checked against their sha256, fetched once per version; damaged or outdated cached copies are replaced', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await ensureSite();
  // Three files: a finished job's file would be answered from storage without the detector.
  const inputs = [];
  for (const name of ['vtest-3s', 'vtest-1s', 'vtest-short']) {
    const clip = await clipOrSkip(t, name);
    if (!clip) return;
    inputs.push(clip);
  }
  const { page, open } = await openSite(t);
  const weights = 'models/ssdlite/ssdlite_person.bpk';
  const digest = (file) => require('node:crypto').createHash('sha256').update(fs.readFileSync(path.join(REPO_ROOT, file))).digest('hex');
  const sha256 = digest(weights);
  // The face detector's weights come with every auto job, checked the same way.
  const faceWeights = 'models/blazeface/blazeface.bpk';
  const faceSha256 = digest(faceWeights);
  const faceUrl = `/${faceWeights}?sha256=${faceSha256}`;
  // What an earlier release (the unversioned URL) and a damaged disk (garbage under this
  // version's URL) would leave in the cache.
  await page.evaluate(async ([w, sha]) => {
    const cache = await caches.open('reframe-models-v1');
    await cache.put(w, new Response(new Uint8Array([1, 2, 3])));
    await cache.put(`${w}?sha256=${sha}`, new Response(new Uint8Array(1000)));
  }, [weights, sha256]);
  const downloads = [];
  page.context().on('request', (r) => {
    if (r.url().includes('.bpk')) downloads.push(new URL(r.url()).pathname + new URL(r.url()).search);
  });
  // A job in a freshly loaded page (so a new worker, which loads the detector again).
  const job = async (input) => {
    await open(page);
    await page.selectOption('#mode', 'auto');
    await page.selectOption('#profile', 'fast');
    await page.selectOption('#model', 'fast');
    await page.setInputFiles('#file-input', input);
    await page.click('#start');
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, { timeout: 600000 });
  };
  await job(inputs[0]);
  assert.equal(await state(page), 'done', JSON.stringify(await reframe(page, 'error')));
  assert.deepEqual(downloads, [`/${weights}?sha256=${sha256}`, faceUrl], 'the damaged copy is fetched again, by its versioned URL (and the face weights, first use)');
  const cached = () => page.evaluate(async () => {
    const cache = await caches.open('reframe-models-v1');
    const out = [];
    for (const request of await cache.keys()) {
      const bytes = await (await cache.match(request)).arrayBuffer();
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      const url = new URL(request.url);
      out.push([url.pathname + url.search, Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')]);
    }
    return out;
  });
  assert.deepEqual(await cached(), [[`/${weights}?sha256=${sha256}`, sha256], [faceUrl, faceSha256]], 'only the good copy of this version is kept');

  // Another file, another worker: the weights come from the cache.
  await job(inputs[1]);
  assert.equal(await state(page), 'done', JSON.stringify(await reframe(page, 'error')));
  assert.equal(downloads.length, 2, `no second download: ${downloads}`);

  // A server that sends other bytes (a site updated only in part): a clear error, nothing cached.
  await page.evaluate(() => caches.delete('reframe-models-v1'));
  await page.context().route('**/*.bpk*', (route) => route.fulfill({ status: 200, body: Buffer.alloc(4096, 7) }));
  await job(inputs[2]);
  assert.equal(await state(page), 'error');
  const shown = await page.textContent('#error');
  assert.match(shown, /other weights than this version of Reframe/, shown);
  assert.equal(downloads.length, 3, `the third worker asked the server: ${downloads}`);
  assert.deepEqual(await cached(), [], 'the wrong bytes are not cached');
});
