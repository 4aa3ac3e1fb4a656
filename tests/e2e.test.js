'use strict';
// End-to-end tests of issue 3: generated clips are dropped into the real page in headless
// Chromium (through tests/process-headless) and the downloaded MP4 is checked with ffprobe and
// ffmpeg (tests/lib/checks.js). Bad inputs must end in the page's error state, never hang.
//
// Run: tests/run-e2e   (or: node --test --test-concurrency=1 tests/e2e.test.js)
// Outputs and reports stay in $REFRAME_E2E_OUT (default /tmp/reframe-e2e) for inspection.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const media = require('./media');
const { ensureBuilt } = require('./lib/build');
const { runHeadless, outDir, tail } = require('./lib/run-headless');
const { checkOutput } = require('./lib/checks');

const REPO_ROOT = path.resolve(__dirname, '..');
// Software decode + encode of 1080p in headless Chromium on 2 cores: tens of seconds per clip.
const JOB_TIMEOUT_S = Number(process.env.REFRAME_E2E_TIMEOUT_S || 900);
const TEST_TIMEOUT_MS = (JOB_TIMEOUT_S + 300) * 1000;
// A bad input must be rejected quickly.
const BAD_TIMEOUT_S = 120;
// REFRAME_NO_BUILD=1: test the dist/ and host that are there (no trunk/cargo build).
const NO_BUILD = process.env.REFRAME_NO_BUILD === '1';
const BUILD_ARGS = NO_BUILD ? ['--no-build'] : [];

// Build once up front, so a build failure reads as one clear message (and the first job's
// elapsed time does not include the build).
let built = null;
const ensureSite = () => {
  if (NO_BUILD) return Promise.resolve();
  if (!built) built = ensureBuilt(REPO_ROOT, (m) => process.stderr.write(`e2e: ${m}\n`));
  return built;
};

/** Gets a clip, skipping the test when a prerequisite (like opencv-doc) is missing. */
async function clipOrSkip(t, name) {
  try {
    return await media.clipPath(name);
  } catch (err) {
    if (err.missing) {
      t.skip(err.message);
      return null;
    }
    throw err;
  }
}

/**
 * Processes clip `name` with `settings` and checks the output.
 * settings: { ratio, mode, posX, posY }.
 */
async function processAndCheck(t, name, settings) {
  await ensureSite();
  const input = await clipOrSkip(t, name);
  if (!input) return;
  const dir = outDir(`${name}-${settings.ratio.replace(':', 'x')}-${settings.posX ?? 50}-${settings.posY ?? 50}`);
  const out = path.join(dir, 'out.mp4');
  const report = path.join(dir, 'report.json');
  const args = ['--input', input, '--out', out, '--report', report, '--ratio', settings.ratio,
    '--timeout-s', String(JOB_TIMEOUT_S), '--keep-browser-log', path.join(dir, 'browser.log'), ...BUILD_ARGS];
  if (settings.mode) args.push('--mode', settings.mode);
  if (settings.posX !== undefined) args.push('--pos-x', String(settings.posX));
  if (settings.posY !== undefined) args.push('--pos-y', String(settings.posY));
  const r = await runHeadless(args, { reportPath: report });
  assert.equal(r.code, 0, `process-headless exited ${r.code}; see ${dir}\n${tail(r.stderr)}`);
  assert.equal(r.report.error, null);
  const facts = await checkOutput(input, out, r.report, settings);
  t.diagnostic(`${name} ${settings.ratio}: ${JSON.stringify(facts)}; ${r.report.frames_in} frames in ${r.report.elapsed_s} s, ` +
    `decode ${r.report.decode_fps} fps, encode ${r.report.encode_fps} fps, peak ${r.report.peak_rss_mb} MB`);
}

// ---- every good clip, 9:16 centred (the default) ----
for (const name of media.clipsOfKind('good')) {
  test(`${name}: 9:16 output matches ffmpeg's crop`, { timeout: TEST_TIMEOUT_MS }, (t) => processAndCheck(t, name, { ratio: '9:16' }));
}

// ---- other ratios and positions ----
test('h264-1080p30: 1:1', { timeout: TEST_TIMEOUT_MS }, (t) => processAndCheck(t, 'h264-1080p30', { ratio: '1:1' }));
test('h264-bframes: custom 2:3 at the left edge', { timeout: TEST_TIMEOUT_MS },
  (t) => processAndCheck(t, 'h264-bframes', { ratio: '2:3', posX: 0 }));
test('portrait-rotated: 16:9 at the bottom (width limits, rotated source)', { timeout: TEST_TIMEOUT_MS },
  (t) => processAndCheck(t, 'portrait-rotated', { ratio: '16:9', posY: 100 }));
test('odd-1921x1081: 9:16 at the right edge', { timeout: TEST_TIMEOUT_MS },
  (t) => processAndCheck(t, 'odd-1921x1081', { ratio: '9:16', posX: 100 }));

// ---- decode-only (the benchmark's mode) ----
test('h264-1080p30: --decode-only decodes every frame', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await ensureSite();
  const input = await media.clipPath('h264-1080p30');
  const dir = outDir('decode-only');
  const report = path.join(dir, 'report.json');
  const r = await runHeadless(['--input', input, '--decode-only', '--report', report, '--timeout-s', String(JOB_TIMEOUT_S), ...BUILD_ARGS],
    { reportPath: report });
  assert.equal(r.code, 0, tail(r.stderr));
  assert.equal(r.report.frames_in, 300);
  assert.ok(r.report.decode_fps > 0, `decode_fps ${r.report.decode_fps}`);
  t.diagnostic(`decode-only: ${r.report.elapsed_s} s, ${r.report.decode_fps} fps`);
});

// ---- bad inputs: an error in plain words, quickly ----
for (const name of media.clipsOfKind('bad')) {
  test(`bad input ${name}: the page shows an error`, { timeout: (BAD_TIMEOUT_S + 120) * 1000 }, async (t) => {
    await ensureSite();
    const input = await media.clipPath(name);
    const dir = outDir(`bad-${name}`);
    const out = path.join(dir, 'out.mp4');
    const report = path.join(dir, 'report.json');
    const r = await runHeadless(['--input', input, '--out', out, '--report', report, '--timeout-s', String(BAD_TIMEOUT_S),
      '--keep-browser-log', path.join(dir, 'browser.log'), ...BUILD_ARGS], { reportPath: report });
    assert.notEqual(r.code, 3, `the page did not finish within ${BAD_TIMEOUT_S} s (a hang)\n${tail(r.stderr)}`);
    assert.equal(r.code, 1, `expected the page's error state (exit 1), got ${r.code}\n${tail(r.stderr)}`);
    const e = r.report.error;
    assert.ok(e && e.message && e.message.trim().length > 0, 'window.__reframe.error.message is not empty');
    assert.ok(e.shown && e.shown.length > 0, '#error shows the message in the page');
    assert.ok(!fs.existsSync(out), 'no output file');
    const allowed = media.CLIPS[name].errorCodes;
    if (allowed) assert.ok(allowed.includes(e.code), `error code "${e.code}" (${e.message}); expected one of ${allowed.join(', ')}`);
    t.diagnostic(`${name}: [${e.code}] ${e.message}`);
  });
}
