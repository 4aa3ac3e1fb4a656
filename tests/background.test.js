'use strict';
// A job in a background tab (issue 19): the tab is really hidden (another tab in front: its
// `visibilityState` is 'hidden' and its timers are throttled to about one a second), and the job
// still finishes, every frame out, and the user who ticked "Tell me when it is done" gets a
// notification for each job (none while the tab is in sight). The same jobs run in a visible tab
// of a fresh browser first; the ratio of their times is printed (a figure, not a timed assertion).
//
// Run: tests/run-e2e tests/background.test.js
//      REFRAME_BACKGROUND_LONG=1 tests/run-e2e tests/background.test.js (longer clips, about 4 minutes)

const test = require('node:test');
const assert = require('node:assert/strict');

const { REPO_ROOT, ensureSite, clipOrSkip } = require('./lib/suite');
const { startHost } = require('./lib/host');
const { launchBackgroundable } = require('./lib/browser');

/** Runs `jobs` one after another in a new browser, the tab hidden or not; answers their summaries. */
async function runJobs(t, url, jobs, hidden) {
  const browser = await launchBackgroundable();
  t.after(() => browser.close()); // if the jobs fail; closed below otherwise
  try {
    return await jobsIn(browser, url, jobs, hidden);
  } finally {
    await browser.close();
  }
}

async function jobsIn(browser, url, jobs, hidden) {
  const { page, context } = browser;
  // The notifications the page shows (the browser's own, recorded on the way).
  await context.grantPermissions(['notifications'], { origin: new URL(url).origin });
  await page.addInitScript(() => {
    const Real = window.Notification;
    window.__notes = [];
    window.Notification = class extends Real {
      constructor(title, options) {
        super(title, options);
        window.__notes.push({ title, body: options?.body, hidden: document.hidden });
      }
    };
  });
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60000 });
  await page.check('#notify');
  await page.waitForFunction(() => localStorage.getItem('reframe.notify') === '1', null, { timeout: 10000 });
  const out = [];
  for (const job of jobs) {
    await page.selectOption('#mode', job.mode);
    await page.setInputFiles('#file-input', job.file);
    await page.click('#start');
    if (hidden) await browser.hide();
    const seen = await page.evaluate(() => document.visibilityState);
    // Polled from here: a hidden page's own timers run about once a second.
    const t0 = Date.now();
    for (;;) {
      const state = await page.evaluate(() => document.body.dataset.state);
      if (state === 'done' || state === 'error') break;
      assert.ok(Date.now() - t0 < 10 * 60 * 1000, `${job.name}: still ${state} after 10 minutes`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const wall = (Date.now() - t0) / 1000;
    const { state, summary, error, title } = await page.evaluate(() => ({
      state: document.body.dataset.state, summary: window.__reframe.summary, error: window.__reframe.error, title: document.title,
    }));
    assert.equal(state, 'done', `${job.name} (${seen}): ${JSON.stringify(error)}`);
    assert.equal(summary.frames_out, summary.frames_in, `${job.name}: every frame out`);
    assert.match(title, /^Done – /, 'the title says the job is done');
    const notes = await page.evaluate(() => window.__notes.splice(0));
    if (hidden) {
      assert.equal(notes.length, 1, `${job.name}: one notification in the background: ${JSON.stringify(notes)}`);
      assert.equal(notes[0].title, 'Reframe: your video is ready');
      assert.ok(notes[0].body.includes(summary.download_name), JSON.stringify(notes[0]));
    } else {
      assert.deepEqual(notes, [], 'no notification while the tab is in sight');
    }
    out.push({ name: job.name, visibility: seen, wall, elapsed: summary.elapsed_s, frames: summary.frames_out });
    if (hidden) await browser.show();
  }
  return out;
}

test('background: jobs in a hidden tab finish, every frame out, at a speed comparable to a visible tab (ratio printed), each with a notification', { timeout: 20 * 60 * 1000 }, async (t) => {
  await ensureSite('background');
  // REFRAME_BACKGROUND_LONG=1: longer clips (20 s of real footage, 60 s of 1080p30), for a note.
  const [autoClip, fixedClip] = process.env.REFRAME_BACKGROUND_LONG === '1' ? ['vtest-20s', 'bench-1080p30-60s'] : ['vtest-3s', 'h264-1080p30'];
  const auto = await clipOrSkip(t, autoClip);
  if (!auto) return;
  const fixed = await clipOrSkip(t, fixedClip);
  const jobs = [
    { name: `auto, ${autoClip}`, mode: 'auto', file: auto },
    { name: `fixed crop, ${fixedClip}`, mode: 'fixed', file: fixed },
  ];
  const host = await startHost(REPO_ROOT);
  t.after(() => host.stop());
  const visible = await runJobs(t, host.url, jobs, false);
  const hidden = await runJobs(t, host.url, jobs, true);
  for (const [i, v] of visible.entries()) {
    const h = hidden[i];
    assert.equal(v.visibility, 'visible');
    assert.equal(h.visibility, 'hidden', 'the tab was really in the background');
    assert.equal(h.frames, v.frames);
    t.diagnostic(`${v.name}: visible ${v.elapsed.toFixed(2)} s, hidden ${h.elapsed.toFixed(2)} s: hidden/visible ${(h.elapsed / v.elapsed).toFixed(2)}x (wall ${v.wall.toFixed(1)} / ${h.wall.toFixed(1)} s)`);
  }
});
