'use strict';
// Tests of the test tooling itself, independent of the real app: geometry, argument parsing,
// the memory sampler, the generated media (checked with ffprobe), and process-headless driving a
// fake page that follows the page contract (tests/fixtures/fake-page).
//
// Run: node --test tests/tooling.test.js

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const { outputSize, place, parseRatio } = require('./lib/geometry');
const { parseArgs, UsageError } = require('./lib/args');
const { RssSampler } = require('./lib/rss');
const { staleReason } = require('./lib/build');
const { probe, countFrames, streamTiming, mp4Boxes, cropPsnr } = require('./lib/probe');
const { run } = require('./lib/proc');
const { serveFolder } = require('./lib/static-server');
const { runHeadless, outDir, tail } = require('./lib/run-headless');
const media = require('./media');

// ---------------------------------------------------------------- geometry and arguments

test('geometry: output sizes match the rule of the issue', () => {
  const cases = [
    [1920, 1080, '9:16', 608, 1080],
    [1920, 1080, '1:1', 1080, 1080],
    [1920, 1080, '4:5', 864, 1080],
    [1920, 1080, '16:9', 1920, 1080],
    [1920, 1080, '2:3', 720, 1080],
    [1080, 1920, '16:9', 1080, 608],
    [1080, 1920, '9:16', 1080, 1920],
    [1080, 1920, '1:1', 1080, 1080],
    [1921, 1081, '9:16', 608, 1080],
    [1921, 1081, '16:9', 1920, 1080],
    [768, 576, '9:16', 324, 576],
  ];
  for (const [W, H, r, w, h] of cases) {
    assert.deepEqual(outputSize(W, H, r), { width: w, height: h }, `${W}x${H} ${r}`);
  }
  assert.deepEqual(place(1920, 1080, { width: 608, height: 1080 }), { x: 656, y: 0, width: 608, height: 1080 });
  assert.equal(place(1920, 1080, { width: 608, height: 1080 }, 0, 50).x, 0);
  assert.equal(place(1920, 1080, { width: 608, height: 1080 }, 100, 50).x, 1312);
  assert.equal(place(1921, 1081, { width: 608, height: 1080 }, 100, 100).x % 2, 0);
  assert.equal(parseRatio('0:1'), null);
  assert.equal(parseRatio('abc'), null);
});

test('process-headless arguments: defaults, values and mistakes', () => {
  const o = parseArgs(['--input', 'a.mp4', '--out', 'b.mp4', '--report', 'r.json']);
  assert.equal(o.ratio, '9:16');
  assert.equal(o.mode, 'fixed');
  assert.equal(o.profile, 'fast');
  assert.equal(o.model, 'quality');
  assert.equal(o.posX, 50);
  assert.equal(o.decodeOnly, false);
  const p = parseArgs(['--input=a.mp4', '--decode-only', '--ratio', '2:3', '--pos-x', '0', '--pos-y=100', '--timeout-s', '30']);
  assert.equal(p.out, null);
  assert.equal(p.decodeOnly, true);
  assert.equal(p.posX, 0);
  assert.equal(p.posY, 100);
  assert.equal(p.timeoutS, 30);
  assert.ok(p.given.has('pos-x') && !p.given.has('mode'));
  assert.equal(parseArgs(['--help']).help, true);
  assert.equal(o.subject, null);
  assert.equal(parseArgs(['--input', 'a', '--out', 'o', '--mode', 'auto', '--subject', ' 3 ']).subject, '3');
  // Several ratios: one --out per ratio, or a folder; further ratios are the page's boxes.
  const three = parseArgs(['--input', 'a', '--ratio', '9:16, 1:1,18:32,4:5', '--out', 'x.mp4', '--out', 'y.mp4', '--out', 'z.mp4']);
  assert.deepEqual(three.ratios, ['9:16', '1:1', '4:5']);
  assert.equal(three.ratio, '9:16');
  assert.deepEqual(three.outs, ['x.mp4', 'y.mp4', 'z.mp4']);
  assert.equal(three.outFolder, null);
  const folder = parseArgs(['--input', 'a', '--ratio', '2:3,1:1', '--out', 'outs/']);
  assert.equal(folder.outFolder, 'outs/');
  assert.equal(folder.ratio, '2:3');
  assert.equal(parseArgs(['--input', 'a', '--out', os.tmpdir()]).outFolder, os.tmpdir());
  const bad = [
    ['--input', 'a.mp4', '--ratio', '9:16,1:1', '--out', 'o.mp4'], // one file for two ratios
    ['--input', 'a.mp4', '--ratio', '9:16,1:1', '--out', 'a.mp4', '--out', 'b.mp4', '--out', 'c.mp4'],
    ['--input', 'a.mp4', '--ratio', '9:16,2:3', '--out', 'outs/'], // 2:3 has no box
    ['--input', 'a.mp4', '--ratio', '9:16,', '--out', 'outs/'],
    ['--input', 'a.mp4', '--ratio', '9:16,1:1', '--out', 'outs/', '--reload-at', '0.5'],
    ['--input', 'a.mp4', '--mode', 'auto', '--subject', 'bob', '--out', 'o'],
    ['--input', 'a.mp4', '--out', 'o', '--subject', '2'], // needs --mode auto
    [],
    ['--input', 'a.mp4'], // no --out
    ['--input', 'a.mp4', '--out', 'o', '--ratio', '9x16'],
    ['--input', 'a.mp4', '--out', 'o', '--mode', 'smart'],
    ['--input', 'a.mp4', '--out', 'o', '--profile', 'slow'],
    ['--input', 'a.mp4', '--out', 'o', '--pos-x', '101'],
    ['--input', 'a.mp4', '--out', 'o', '--pos-y', ''],
    ['--input', 'a.mp4', '--out', 'o', '--timeout-s', '0'],
    ['--input', 'a.mp4', '--out', 'o', '--bogus'],
    ['--input', 'a.mp4', '--out'],
    ['--input', 'a.mp4', '--out', 'o', 'extra'],
  ];
  for (const argv of bad) assert.throws(() => parseArgs(argv), UsageError, argv.join(' '));
});

test('build staleness: missing or older targets are stale', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'reframe-stale-'));
  try {
    fs.mkdirSync(path.join(root, 'www'));
    fs.mkdirSync(path.join(root, 'dist'));
    fs.writeFileSync(path.join(root, 'www', 'index.html'), 'x');
    const target = path.join(root, 'dist', 'index.html');
    assert.match(staleReason(root, target, ['www', 'app']), /missing/);
    fs.writeFileSync(target, 'y');
    const past = new Date(Date.now() - 60000);
    fs.utimesSync(path.join(root, 'www', 'index.html'), past, past);
    assert.equal(staleReason(root, target, ['www', 'app']), null);
    fs.utimesSync(target, new Date(Date.now() - 120000), new Date(Date.now() - 120000));
    assert.match(staleReason(root, target, ['www', 'app']), /www\/index.html is newer/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('build: trunk and cargo run only when their outputs are stale', async () => {
  const { ensureBuilt } = require('./lib/build');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'reframe-build-'));
  const bin = path.join(root, 'fake-bin');
  const calls = path.join(root, 'calls.log');
  const savedPath = process.env.PATH;
  try {
    for (const d of ['www', 'app', 'host', 'extra', bin]) fs.mkdirSync(path.join(root, d.startsWith('/') ? path.relative(root, d) : d), { recursive: true });
    fs.writeFileSync(path.join(root, 'Cargo.toml'), '[workspace]\nmembers = ["app", "host", "extra"]\n');
    fs.writeFileSync(path.join(root, 'www', 'index.html'), 'x');
    fs.writeFileSync(path.join(root, 'host', 'main.rs'), 'x');
    fs.writeFileSync(path.join(root, 'extra', 'lib.rs'), 'x');
    // Stand-ins for trunk and cargo that record their arguments and make the outputs.
    fs.writeFileSync(path.join(bin, 'trunk'), `#!/bin/sh\necho "trunk $*" >> ${calls}\nmkdir -p dist && echo built > dist/index.html\n`, { mode: 0o755 });
    // The fake cargo makes a fake host, which records its calls too (`compress dist` after trunk).
    const host = `#!/bin/sh\necho "reframe-host $*" >> ${calls}\n`;
    fs.writeFileSync(path.join(bin, 'cargo'), `#!/bin/sh\necho "cargo $*" >> ${calls}\nmkdir -p target/release && printf '%s' '${host}' > target/release/reframe-host && chmod +x target/release/reframe-host\n`, { mode: 0o755 });
    process.env.PATH = `${bin}:${savedPath}`;
    const callLog = () => (fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : []);

    assert.deepEqual(await ensureBuilt(root), { siteBuilt: true, hostBuilt: true });
    assert.deepEqual(callLog(), ['cargo build --release -p reframe-host', 'trunk build --release', 'reframe-host csp dist', 'reframe-host offline dist', 'reframe-host compress dist']);
    assert.deepEqual(await ensureBuilt(root), { siteBuilt: false, hostBuilt: false }, 'nothing to do the second time');

    // Sources 200 s old, outputs 100 s old: up to date. Then edit one source at a time.
    const ago = (s) => new Date(Date.now() - s * 1000);
    for (const f of ['Cargo.toml', 'www/index.html', 'host/main.rs', 'extra/lib.rs']) fs.utimesSync(path.join(root, f), ago(200), ago(200));
    for (const f of ['dist/index.html', 'target/release/reframe-host']) fs.utimesSync(path.join(root, f), ago(100), ago(100));
    assert.deepEqual(await ensureBuilt(root), { siteBuilt: false, hostBuilt: false });
    // A source of a workspace member that is not in the fixed list makes the site stale.
    fs.utimesSync(path.join(root, 'extra', 'lib.rs'), ago(50), ago(50));
    assert.deepEqual(await ensureBuilt(root), { siteBuilt: true, hostBuilt: false });
    fs.utimesSync(path.join(root, 'host', 'main.rs'), ago(20), ago(20));
    assert.deepEqual(await ensureBuilt(root), { siteBuilt: false, hostBuilt: true });
    assert.deepEqual(callLog().slice(5), ['trunk build --release', 'reframe-host csp dist', 'reframe-host offline dist', 'reframe-host compress dist', 'cargo build --release -p reframe-host']);
  } finally {
    process.env.PATH = savedPath;
    fs.rmSync(root, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- memory sampler

test('RSS sampler sums a process tree and keeps the peak', async () => {
  // A child that starts a grandchild holding ~150 MB, then both hold ~40 MB more.
  const script = `
    const { spawn } = require('child_process');
    const hold = 'const b = Buffer.alloc(150 * 1024 * 1024, 1); setTimeout(() => {}, 4000);';
    spawn(process.execPath, ['-e', hold], { stdio: 'inherit' });
    const mine = Buffer.alloc(40 * 1024 * 1024, 1);
    setTimeout(() => {}, 4000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  try {
    const sampler = new RssSampler({ rootPid: child.pid, intervalMs: 100 }).start();
    await new Promise((r) => setTimeout(r, 2500));
    const res = sampler.stop();
    assert.ok(res.rss_samples >= 10, `samples: ${res.rss_samples}`);
    assert.ok(res.peak_rss_mb >= 190, `total ${res.peak_rss_mb} MB should include both processes`);
    assert.ok(res.peak_renderer_rss_mb >= 150 && res.peak_renderer_rss_mb < res.peak_rss_mb, `largest ${res.peak_renderer_rss_mb} MB`);
    assert.ok(res.peak_anon_mb >= 190, `anon ${res.peak_anon_mb} MB`);
  } finally {
    child.kill('SIGKILL');
  }
});

// ---------------------------------------------------------------- generated media

const GOOD = media.clipsOfKind('good');

for (const name of [...GOOD, ...media.clipsOfKind('detector'), ...media.clipsOfKind('resume'), ...media.clipsOfKind('camera'), 'bench-1080p30-60s']) {
  const spec = media.CLIPS[name];
  // The 60 s benchmark clip is only checked when tests/bench already generated it.
  // A recording made in the browser (mediarecorder-webm) has no fixed properties to check.
  const skip = name.startsWith('bench') && !fs.existsSync(media.cachedPath(name)) ? 'generated by tests/bench'
    : !spec.expect ? 'recorded live: no fixed properties' : false;
  test(`media: ${name} has the intended properties`, { timeout: 10 * 60 * 1000, skip }, async (t) => {
    let file;
    try {
      file = await media.clipPath(name);
    } catch (err) {
      if (err.missing) return t.skip(err.message);
      throw err;
    }
    const e = spec.expect;
    const p = await probe(file);
    const v = p.video;
    assert.equal(v.codec, e.codec);
    assert.deepEqual([v.width, v.height], [e.width, e.height], 'coded size');
    assert.deepEqual([v.display_width, v.display_height], e.display, 'display size');
    assert.equal(v.rotation, e.rotation, 'rotation');
    if (e.pix_fmt) assert.equal(v.pix_fmt, e.pix_fmt);
    assert.equal(await countFrames(file), e.frames, 'decoded frames');
    assert.equal(v.has_b_frames > 0, e.bframes, `has_b_frames=${v.has_b_frames}`);
    if (e.boxes) {
      const vtrack = mp4Boxes(file).tracks.find((tr) => tr.handler === 'vide');
      for (const b of e.boxes) assert.ok(vtrack.boxes.has(b), `video track has ${b}`);
    }
    const timing = await streamTiming(file, 'v:0');
    if (e.vfr) {
      assert.ok(timing.distinctDurations.length >= 3, `frame durations ${timing.distinctDurations}`);
    } else {
      assert.ok(timing.distinctDurations.length <= 2, `constant rate expected, got ${timing.distinctDurations}`);
    }
    if (e.audio) {
      assert.ok(p.audio, 'audio stream');
      assert.equal(p.audio.codec, e.audioCodec || 'aac');
      assert.equal(p.audio.channels, 2);
      // Matroska keeps no per-stream duration: time the packets then.
      const audioS = p.audio.duration ?? (await streamTiming(file, 'a:0')).duration;
      assert.ok(Math.abs(audioS - timing.duration) < 0.05, `audio ${audioS} s vs video ${timing.duration} s`);
    } else {
      assert.equal(p.audio, null);
    }
  });
}

test('media: the portrait clip is upright once rotated (rotation direction)', { timeout: 5 * 60 * 1000 }, async () => {
  const file = await media.clipPath('portrait-rotated');
  // Draw the same first frame upright and compare it with ffmpeg's autorotated decode.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reframe-upright-'));
  try {
    const ref = path.join(dir, 'ref.mp4');
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1080x1920:rate=30:duration=0.2',
      '-vf', "drawbox=x='mod(t*300,iw-240)':y='ih/2-120+200*sin(t)':w=240:h=240:color=red@1:t=fill",
      '-c:v', 'libx264', '-crf', '0', '-pix_fmt', 'yuv420p', ref], { check: true });
    const [r] = await cropPsnr(file, ref, [{ rect: { x: 0, y: 0, width: 1080, height: 1920 }, frames: [0] }]);
    assert.ok(r.psnr_y > 30, `upright PSNR ${r.psnr_y} dB`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('media: bad inputs are what they claim', { timeout: 5 * 60 * 1000 }, async () => {
  const size = async (n) => fs.statSync(await media.clipPath(n)).size;
  assert.equal(await size('empty'), 0);
  assert.equal(await size('random-bytes'), 1 << 20);
  const full = fs.statSync(await media.clipPath('h264-1080p30')).size;
  assert.equal(await size('truncated'), Math.floor(full / 2));
  // Without moov ffprobe cannot open it.
  const t = await run('ffprobe', ['-v', 'error', await media.clipPath('truncated')]);
  assert.notEqual(t.code, 0);
  const fsBoxes = mp4Boxes(await media.clipPath('faststart-cut-90'));
  assert.ok(fsBoxes.moovBeforeMdat, `faststart layout: ${fsBoxes.top}`);
  // The partial and bad ones made from other clips are the share of them they claim.
  const whole = fs.statSync(await media.clipPath('mkv-h264-aac')).size;
  assert.equal(await size('mkv-cut-90'), Math.floor(whole * 0.9));
  assert.equal(await size('webm-cut-header'), 300);
  assert.equal((await probe(await media.clipPath('webm-vp8-vorbis'))).audio.codec, 'vorbis');
  const r = await run('ffprobe', ['-v', 'error', await media.clipPath('random-bytes')]);
  assert.notEqual(r.code, 0);
  const m = await probe(await media.clipPath('unsupported-mpeg4'));
  assert.equal(m.video.codec, 'mpeg4');
});

// ---------------------------------------------------------------- process-headless vs a fake page

test('process-headless drives a page that follows the contract', { timeout: 5 * 60 * 1000 }, async (t) => {
  const server = await serveFolder(path.join(__dirname, 'fixtures', 'fake-page'));
  t.after(() => server.close());
  const input = await media.clipPath('h264-1080p30');
  const dir = outDir('tooling-fake-page');
  const common = ['--url', server.url, '--timeout-s', '60'];
  // Every run below tags its Chromium profile so we can check that all were removed.
  const tag = `tooling${process.pid}x`;
  const headless = (args, opts = {}) => runHeadless(args, { ...opts, env: { REFRAME_PROFILE_TAG: tag } });

  await t.test('success: controls set, download saved, report written', async () => {
    const out = path.join(dir, 'ok.mp4');
    const report = path.join(dir, 'ok.json');
    const log = path.join(dir, 'ok.browser.log');
    const r = await headless([...common, '--input', input, '--out', out, '--report', report, '--ratio', '2:3',
      '--pos-x', '10', '--pos-y', '90', '--mode', 'auto', '--profile', 'quality', '--model', 'quality', '--keep-browser-log', log], { reportPath: report });
    assert.equal(r.code, 0, tail(r.stderr));
    const rep = r.report;
    assert.deepEqual(rep.settings, { ratio: '2:3', mode: 'auto', profile: 'quality', model: 'quality', pos_x: 10, pos_y: 90 });
    assert.equal(rep.settings_seen.model, 'quality');
    // The page saw what we set, with input and change events.
    assert.equal(rep.settings_seen.ratio, '2:3');
    assert.equal(rep.settings_seen.pos_x, 10);
    assert.equal(rep.settings_seen.file_size, fs.statSync(input).size);
    for (const ev of ['pos-x:input', 'pos-x:change', 'pos-y:change']) assert.ok(rep.events_seen.includes(ev), ev);
    // Summary mapped and copied through.
    assert.deepEqual(rep.stages, { reading: 0.1, processing: 0.4 });
    assert.equal(rep.backend, 'fake');
    assert.equal(rep.frames_in, 10);
    assert.ok(rep.elapsed_s > 0.3 && rep.elapsed_s < 30, `elapsed ${rep.elapsed_s}`);
    assert.equal(rep.error, null);
    assert.equal(rep.crop_path.length, 1);
    assert.ok(rep.peak_rss_mb > 50 && rep.peak_renderer_rss_mb > 10, `memory ${rep.peak_rss_mb}/${rep.peak_renderer_rss_mb}`);
    // The download is the page's blob.
    assert.equal(fs.statSync(out).size, rep.output_bytes);
    assert.equal(rep.saved_bytes, rep.output_bytes);
    assert.match(fs.readFileSync(out, 'latin1'), /"ratio":"2:3"/);
    assert.ok(fs.existsSync(log));
  });

  await t.test('decode-only: no download, ?decode_only=1 reaches the page', async () => {
    const report = path.join(dir, 'dec.json');
    const r = await headless([...common, '--input', input, '--decode-only', '--report', report], { reportPath: report });
    assert.equal(r.code, 0, tail(r.stderr));
    assert.equal(r.report.settings_seen.decode_only, true);
    assert.equal(r.report.output, null);
    assert.equal(r.report.frames_out, 0);
  });

  await t.test('page error: exit 1, message on stderr and in the report', async () => {
    const bad = path.join(dir, 'bad-input.mp4');
    fs.writeFileSync(bad, 'not a video');
    const report = path.join(dir, 'bad.json');
    const r = await headless([...common, '--input', bad, '--out', path.join(dir, 'bad.mp4'), '--report', report], { reportPath: report });
    assert.equal(r.code, 1, tail(r.stderr));
    assert.match(r.stderr, /not a video Reframe can read/);
    assert.equal(r.report.error.code, 'not_a_video');
    assert.match(r.report.error.shown, /not a video/);
    assert.ok(!fs.existsSync(path.join(dir, 'bad.mp4')));
  });

  await t.test('a page that never finishes: exit 3 after --timeout-s', async () => {
    const hang = path.join(dir, 'hang.mp4');
    fs.writeFileSync(hang, 'x');
    const report = path.join(dir, 'hang.json');
    const r = await headless(['--url', server.url, '--timeout-s', '4', '--input', hang, '--out', path.join(dir, 'h.mp4'), '--report', report], { reportPath: report });
    assert.equal(r.code, 3, tail(r.stderr));
    assert.equal(r.report.error.code, 'timeout');
    assert.ok(r.seconds < 30, `took ${r.seconds} s`);
  });

  await t.test('usage errors: exit 2', async () => {
    assert.equal((await headless(['--input', input])).code, 2);
    assert.equal((await headless(['--input', '/nonexistent.mp4', '--out', '/tmp/x.mp4'])).code, 2);
    const help = await headless(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes/);
  });

  await t.test('no browser profile left behind', async () => {
    const leaked = fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith(`reframe-chromium-${tag}`));
    assert.deepEqual(leaked, [], 'process-headless left these Chromium profiles (browser not closed?)');
  });
});

// ---------------------------------------------------------------- the output checks themselves

/**
 * Makes what a correct page would make, with ffmpeg (crop + encode, audio copied), plus the
 * report process-headless would write, so checkOutput can be tested without the app.
 */
async function ffmpegReference(input, dir, settings, shift = 0) {
  const { outputSize: size, place: at } = require('./lib/geometry');
  const p = await probe(input);
  const W = p.video.display_width;
  const H = p.video.display_height;
  const s = size(W, H, settings.ratio);
  const rect = at(W, H, s, settings.posX ?? 50, settings.posY ?? 50);
  const out = path.join(dir, `ref-${settings.ratio.replace(':', 'x')}-${shift}.mp4`);
  const x = Math.max(0, Math.min(W - s.width, rect.x + shift));
  await run('nice', ['-n', '10', 'ffmpeg', '-v', 'error', '-y', '-i', input, '-vf', `crop=${s.width}:${s.height}:${x}:${rect.y}`,
    '-fps_mode', 'passthrough', '-c:v', 'libx264', '-preset', 'veryfast', '-c:a', 'copy', out], { check: true });
  const frames = await countFrames(input);
  const { packetTimes } = require('./lib/probe');
  const pts = (await packetTimes(input, 'v:0')).map((pk) => Math.round(pk.pts * 1e6));
  const report = {
    frames_in: frames, frames_out: frames, output_size: s, audio_copied: Boolean(p.audio),
    output_bytes: fs.statSync(out).size, download_name: `${path.basename(input, '.mp4')}-${s.width}x${s.height}.mp4`,
    crop_path: pts.map((t) => ({ timestamp_us: t, ...rect })),
  };
  return { out, report };
}

for (const [name, settings] of [
  ['h264-bframes', { ratio: '2:3', posX: 0 }],
  ['portrait-rotated', { ratio: '16:9', posY: 100 }],
  ['odd-1921x1081', { ratio: '9:16', posX: 100 }],
  ['vfr', { ratio: '9:16' }],
]) {
  test(`checks: ffmpeg's own crop of ${name} (${settings.ratio}) passes checkOutput`, { timeout: 10 * 60 * 1000 }, async (t) => {
    const { checkOutput } = require('./lib/checks');
    const input = await media.clipPath(name);
    const dir = outDir(`tooling-checks-${name}`);
    const { out, report } = await ffmpegReference(input, dir, settings);
    const facts = await checkOutput(input, out, report, settings);
    t.diagnostic(JSON.stringify(facts));
  });
}

test('checks: a crop 40 px off fails the pixel comparison', { timeout: 10 * 60 * 1000 }, async () => {
  const { checkOutput } = require('./lib/checks');
  const input = await media.clipPath('h264-1080p30');
  const dir = outDir('tooling-checks-shifted');
  const settings = { ratio: '9:16' };
  const { out, report } = await ffmpegReference(input, dir, settings, 40);
  await assert.rejects(checkOutput(input, out, report, settings), /PSNR/);
});
