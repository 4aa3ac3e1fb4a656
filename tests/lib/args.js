'use strict';
// Command-line parsing for tests/process-headless. No dependencies: a flat list of
// `--name value` / `--name=value` options and boolean flags.

const { parseRatio } = require('./geometry');

const USAGE = `Usage: tests/process-headless --input IN --out OUT.mp4 --report REPORT.json [options]

Drives the real Reframe page in headless Chromium: builds the site if needed, serves it on a
free localhost port, drops IN into the page, waits, saves the download to OUT.mp4 and writes a
JSON report.

Options:
  --input FILE            video to process (required)
  --out FILE              where to save the downloaded MP4 (required unless --decode-only);
                          with several ratios, once per ratio in their order, or one folder
                          (an existing directory, or a path ending in /) that gets each file
                          under the page's download name
  --report FILE           where to write the JSON report (default: print it on stdout)
  --ratio W:H[,W:H...]    9:16 (default), 1:1, 4:5, 16:9 or any W:H (uses the "custom" choice);
                          a comma list exports every ratio from one decode of the source (the
                          page's "Also export as"; ratios after the first: 9:16, 1:1, 4:5, 16:9);
                          the report describes the first and lists all in "outputs"
  --mode fixed|auto       crop mode (default fixed)
  --profile fast|balanced|quality
                          analysed frames a second: 3, 6 or 10 (default fast, as the page)
  --model fast|quality    person detector in auto mode: SSDLite ("Quick") or CenterNet
                          ("Thorough", the default, as the page)
  --two-people auto|one|split
                          auto mode, when two people do not fit in one crop: a split screen
                          if both matter (auto, the default, as the page), always one crop, or
                          a split screen whenever a second person of some importance is there
  --pin T:X,Y             auto mode, repeatable: at T seconds the crop window's top-left is at
                          X,Y (display pixels of the source, made even); the camera passes
                          exactly through each pin (frames within 0.1 s of T show it)
  --subject ID            auto mode: follow this person (a track id: the number on their box in
                          the page, or a person's track_id in an earlier report's "people"; the
                          ids are those of the stored analysis, so the same video, model and
                          profile give the same ids) instead of the most prominent one
  --pos-x 0..100          fixed crop position, 0 = left, 100 = right (default 50)
  --pos-y 0..100          fixed crop position, 0 = top, 100 = bottom (default 50)
  --decode-only           benchmark aid: open the page with ?decode_only=1 (no output file)
  --detector auto|webgpu|cpu
                          where the person detector runs in auto mode (default auto: WebGPU on
                          a hardware adapter, else CPU); opens the page with ?detector=...
  --chunk-s N             seconds of video per stored chunk (page ?chunk_s=N; default 10)
  --detect-batch N        frames per detector run, 1..64 (page ?detect_batch=N; default: the
                          page measures 1, 2, 4, 8 on the job's first frames and keeps the fastest)
  --detect-workers N      detector workers running the CPU detector side by side, 1..16 (page
                          ?detect_workers=N; default: one per core, at most 4)
  --crash-detector-worker-at N
                          test aid: the detector worker given the N-th detection request (0-based)
                          crashes while running it (page ?crash_detector_worker_at=N); the
                          report's detect_worker_restarts counts the workers replaced
  --preprocess cpu|gpu    where sampled frames are scaled for the detector (page ?preprocess=...;
                          default: on the detector's device when it is a hardware GPU, else CPU)
  --reload-at F1,F2,...   reload the page when overall progress passes each fraction (0..1),
                          then resume as a user would (Resume, choose the same file)
  --restart-browser-at F  kill Chromium when progress passes F, restart it on the same profile
                          and resume; the report's "reloads" lists every interruption, and
                          "interruptions_missed" the points passed only in the last tenth of
                          the encode pass or later (no interruption then: the job may end first)
  --timeout-s N           give up after N seconds from opening the page (default 3600); exit 3
  --cpu-profile FILE      write a CPU profile of the worker (DevTools .cpuprofile) to FILE and
                          print the functions with the most self time
  --keep-browser-log FILE write the page's console and errors to FILE instead of stderr
  --url URL               use an already running server at URL (skips build and host)
  --no-build              do not build the site or the host, use what is there
  --chromium PATH         browser binary (default $REFRAME_CHROMIUM or /usr/bin/chromium)
  --quiet                 do not print progress lines on stderr
  -h, --help              show this help

Exit codes:
  0  done: the output (and report) are written
  1  the page reported an error (message on stderr, also in the report's "error")
  2  bad command line, or the input file does not exist
  3  timeout: the page did not finish within --timeout-s (or did not load)
  4  tooling failure: build, server, browser, download, or the page broke its contract
`;

class UsageError extends Error {}

const FLAGS = new Set(['decode-only', 'no-build', 'quiet', 'help']);
const REPEATED = new Set(['pin', 'out']);
const VALUES = new Set([
  'input', 'out', 'report', 'ratio', 'mode', 'profile', 'model', 'two-people', 'subject', 'pos-x', 'pos-y',
  'timeout-s', 'keep-browser-log', 'cpu-profile', 'url', 'chromium', 'detector', 'chunk-s', 'detect-batch', 'detect-workers', 'crash-detector-worker-at', 'preprocess', 'reload-at', 'restart-browser-at',
]);

/**
 * Parses argv (without node and script) into an options object.
 * Throws UsageError with a readable message on any mistake.
 */
function parseArgs(argv) {
  const raw = {};
  const given = new Set(); // options the user typed (the rest are defaults)
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    if (arg === '-h') arg = '--help';
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument: ${arg}`);
    let name = arg.slice(2);
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (FLAGS.has(name)) {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`);
      raw[name] = true;
    } else if (VALUES.has(name) || REPEATED.has(name)) {
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
        value = argv[++i];
      }
      if (REPEATED.has(name)) (raw[name] = raw[name] || []).push(value);
      else raw[name] = value;
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
    given.add(name);
  }

  if (raw.help) return { help: true };

  const opts = {
    input: raw.input,
    out: raw.out ? raw.out[0] : null,
    outs: raw.out || [],
    report: raw.report || null,
    ratio: (raw.ratio || '9:16').split(',')[0].trim(),
    ratios: (raw.ratio || '9:16').split(',').map((r) => r.trim()),
    mode: raw.mode || 'fixed',
    profile: raw.profile || 'fast',
    model: raw.model || 'quality',
    twoPeople: raw['two-people'] || 'auto',
    pins: raw.pin || [],
    subject: raw.subject === undefined ? null : raw.subject,
    posX: 50,
    posY: 50,
    decodeOnly: Boolean(raw['decode-only']),
    detector: raw.detector || 'auto',
    timeoutS: 3600,
    browserLog: raw['keep-browser-log'] || null,
    cpuProfile: raw['cpu-profile'] || null,
    url: raw.url || null,
    build: !raw['no-build'],
    chromium: raw.chromium || process.env.REFRAME_CHROMIUM || '/usr/bin/chromium',
    quiet: Boolean(raw.quiet),
    chunkS: null,
    detectBatch: null,
    detectWorkers: null,
    crashDetectorWorkerAt: null,
    preprocess: null,
    interruptions: [],
    given,
  };

  if (!opts.input) throw new UsageError('--input is required');
  if (!opts.out && !opts.decodeOnly) throw new UsageError('--out is required (unless --decode-only)');
  for (const r of opts.ratios) {
    if (!parseRatio(r)) throw new UsageError(`--ratio must look like 9:16 (or a comma list of such), got "${r}"`);
  }
  opts.ratios = opts.ratios.map(normaliseRatio).filter((r, i, all) => all.indexOf(r) === i);
  opts.ratio = opts.ratios[0];
  for (const r of opts.ratios.slice(1)) {
    if (!PRESET_RATIOS.includes(r)) throw new UsageError(`ratios after the first must be one of ${PRESET_RATIOS.join(', ')}, got "${r}"`);
  }
  if (opts.decodeOnly && opts.ratios.length > 1) throw new UsageError('--decode-only makes no output: give one --ratio');
  opts.outFolder = opts.outs.length === 1 && isFolder(opts.outs[0]) ? opts.outs[0] : null;
  if (!opts.outFolder && opts.outs.length > 1 && opts.outs.length !== opts.ratios.length) {
    throw new UsageError(`give one --out per ratio (${opts.ratios.length}), or one folder; got ${opts.outs.length}`);
  }
  if (!opts.outFolder && opts.outs.length === 1 && opts.ratios.length > 1) {
    throw new UsageError(`several ratios need one --out per ratio, or a folder (an existing directory, or a path ending in /)`);
  }
  if (!['fixed', 'auto'].includes(opts.mode)) throw new UsageError(`--mode must be fixed or auto, got "${opts.mode}"`);
  if (!['auto', 'webgpu', 'cpu'].includes(opts.detector)) {
    throw new UsageError(`--detector must be auto, webgpu or cpu, got "${opts.detector}"`);
  }
  if (!['fast', 'quality'].includes(opts.model)) throw new UsageError(`--model must be fast or quality, got "${opts.model}"`);
  for (const p of opts.pins) {
    if (!/^\s*\d+(\.\d+)?\s*:\s*\d+\s*,\s*\d+\s*$/.test(p)) throw new UsageError(`--pin must look like 2.5:640,0 (seconds:x,y), got "${p}"`);
  }
  if (opts.pins.length && opts.mode !== 'auto') throw new UsageError('--pin needs --mode auto');
  if (opts.subject !== null) {
    if (!/^\d+$/.test(opts.subject.trim())) throw new UsageError(`--subject must be a person's number (a track id), got "${opts.subject}"`);
    if (opts.mode !== 'auto') throw new UsageError('--subject needs --mode auto');
    opts.subject = opts.subject.trim();
  }
  if (!['auto', 'one', 'split'].includes(opts.twoPeople)) {
    throw new UsageError(`--two-people must be auto, one or split, got "${opts.twoPeople}"`);
  }
  if (!['fast', 'balanced', 'quality'].includes(opts.profile)) {
    throw new UsageError(`--profile must be fast, balanced or quality, got "${opts.profile}"`);
  }
  for (const [key, name] of [['posX', 'pos-x'], ['posY', 'pos-y']]) {
    if (raw[name] === undefined) continue;
    const v = Number(raw[name]);
    if (raw[name].trim() === '' || !Number.isFinite(v) || v < 0 || v > 100) {
      throw new UsageError(`--${name} must be a number from 0 to 100, got "${raw[name]}"`);
    }
    opts[key] = v;
  }
  if (raw['timeout-s'] !== undefined) {
    const t = Number(raw['timeout-s']);
    if (!Number.isFinite(t) || t <= 0) throw new UsageError(`--timeout-s must be a positive number, got "${raw['timeout-s']}"`);
    opts.timeoutS = t;
  }
  if (raw['chunk-s'] !== undefined) {
    const c = Number(raw['chunk-s']);
    if (!Number.isFinite(c) || c <= 0) throw new UsageError(`--chunk-s must be a positive number, got "${raw['chunk-s']}"`);
    opts.chunkS = c;
  }
  if (raw['detect-batch'] !== undefined) {
    const b = Number(raw['detect-batch']);
    if (!Number.isInteger(b) || b < 1 || b > 64) throw new UsageError(`--detect-batch must be an integer from 1 to 64, got "${raw['detect-batch']}"`);
    opts.detectBatch = b;
  }
  if (raw['detect-workers'] !== undefined) {
    const w = Number(raw['detect-workers']);
    if (!Number.isInteger(w) || w < 1 || w > 16) throw new UsageError(`--detect-workers must be an integer from 1 to 16, got "${raw['detect-workers']}"`);
    opts.detectWorkers = w;
  }
  if (raw['crash-detector-worker-at'] !== undefined) {
    const n = Number(raw['crash-detector-worker-at']);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--crash-detector-worker-at must be an integer from 0, got "${raw['crash-detector-worker-at']}"`);
    opts.crashDetectorWorkerAt = n;
  }
  if (raw.preprocess !== undefined) {
    if (!['cpu', 'gpu'].includes(raw.preprocess)) throw new UsageError(`--preprocess must be cpu or gpu, got "${raw.preprocess}"`);
    opts.preprocess = raw.preprocess;
  }
  const fractions = (name, kind) => {
    if (raw[name] === undefined) return;
    for (const part of raw[name].split(',')) {
      const f = Number(part);
      if (part.trim() === '' || !Number.isFinite(f) || f <= 0 || f >= 1) {
        throw new UsageError(`--${name} takes fractions between 0 and 1, got "${part}"`);
      }
      opts.interruptions.push({ at: f, kind });
    }
  };
  fractions('reload-at', 'reload');
  fractions('restart-browser-at', 'restart_browser');
  opts.interruptions.sort((a, b) => a.at - b.at);
  if (opts.interruptions.length && opts.ratios.length > 1) {
    throw new UsageError('--reload-at and --restart-browser-at resume one output: give one --ratio');
  }
  if (opts.interruptions.length && opts.decodeOnly) throw new UsageError('--reload-at and --restart-browser-at need a real job (not --decode-only)');
  if (opts.url && !/^https?:\/\//.test(opts.url)) throw new UsageError(`--url must start with http:// or https://`);
  return opts;
}

/** An existing directory, or a path written as one (ending in a slash). */
function isFolder(p) {
  if (/[\\/]$/.test(p)) return true;
  try {
    return require('fs').statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** "9:16" style ratios offered directly by select#ratio; anything else goes through "custom". */
const PRESET_RATIOS = ['9:16', '1:1', '4:5', '16:9'];

/** Normalises "09 : 16" and "18:32" to "9:16" (as the page reads them). */
function normaliseRatio(text) {
  const r = parseRatio(text);
  const gcd = (a, b) => (b ? gcd(b, a % b) : a);
  const g = gcd(r.w, r.h) || 1;
  return `${r.w / g}:${r.h / g}`;
}

module.exports = { parseArgs, UsageError, USAGE, PRESET_RATIOS, normaliseRatio };
