'use strict';
// Drives one job through the page contract:
//   body[data-state]        loading -> ready -> running -> done | error
//   select#ratio            9:16 | 1:1 | 4:5 | 16:9 | custom (+ input#custom-ratio "W:H")
//   #more-ratios input[value=W:H]  "Also export as" checkboxes (one more output each)
//   #more-downloads a.download-more  their results, once done, in the order of the boxes
//   select#mode             fixed | auto
//   select#profile          fast | balanced | quality
//   select#model            fast | quality (the person detector)
//   select#two-people       auto | one | split
//   input#pins              "T:X,Y; T:X,Y" pinned framings (auto mode)
//   input#subject           the person to follow, a track id (auto mode; empty: automatic)
//   input#pos-x, #pos-y     range 0..100
//   input#file-input        the file (setInputFiles = the drop)
//   button#start            starts the job
//   a#download              the result, once done
//   window.__reframe.error    { code, message } when state is error; #error shows it
//   window.__reframe.summary  the job summary when state is done

const { PRESET_RATIOS, normaliseRatio } = require('./args');

/** Raised when the job ends in the page's `error` state. */
class PageError extends Error {
  constructor(error) {
    super(error.message || error.code || 'the page reported an error without a message');
    this.pageError = error;
  }
}
/** Raised when a wait runs out of time. */
class TimeoutError extends Error {}
/** Raised when the page does not follow the contract (missing element, bad summary...). */
class ContractError extends Error {}

const now = () => Number(process.hrtime.bigint()) / 1e9;

/** Reads the page state: body.dataset.state ('' when there is no body yet). */
function readState(page) {
  return page.evaluate(() => (document.body && document.body.dataset.state) || '');
}

/**
 * Reads window.__reframe.error plus the text shown in #error. When the page set only #error
 * (errors found by the page itself rather than the worker), the message is that text and the
 * code comes from #error's data-code attribute.
 */
async function readError(page) {
  return page.evaluate(() => {
    const r = window.__reframe || {};
    const e = r.error || {};
    const el = document.querySelector('#error');
    const shown = el ? el.textContent.trim() : null;
    const code = e.code != null ? String(e.code) : el && el.dataset.code ? el.dataset.code : null;
    const message = e.message != null && String(e.message).trim() ? String(e.message) : shown || '';
    return { code, message, shown };
  });
}

/**
 * Waits until body.dataset.state is one of `states`, polling every `pollMs`.
 * `deadline` is an absolute time from now(). Resolves with the state.
 * A page crash ends the wait at once.
 */
async function waitForState(page, states, deadline, what, { pollMs = 100, onPoll = null } = {}) {
  for (;;) {
    if (page.isClosed()) throw new ContractError(`the page closed or crashed while waiting for ${what}`);
    let state;
    try {
      state = await readState(page);
    } catch (err) {
      // Navigation in progress, or the renderer died.
      if (/crash|closed|Target/i.test(err.message)) throw new ContractError(`the page crashed while waiting for ${what}: ${err.message}`);
      state = '';
    }
    if (states.includes(state)) return state;
    if (onPoll) await onPoll(state);
    if (now() > deadline) throw new TimeoutError(`timed out waiting for ${what} (state is "${state || 'none'}")`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Lists the option values of a <select>, or null when it is missing. */
function selectOptions(page, selector) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    return el ? [...el.options].map((o) => o.value) : null;
  }, selector);
}

/**
 * Selects `value` in `selector`. When `required` (the user asked for it) a missing element or
 * option is a ContractError; otherwise a missing control is skipped with a warning.
 */
async function setSelect(page, selector, value, required, warn) {
  const options = await selectOptions(page, selector);
  if (options === null || !options.includes(value)) {
    const why = options === null ? `${selector} is missing` : `${selector} has no option "${value}" (has: ${options.join(', ')})`;
    if (required) throw new ContractError(why);
    warn(`${why}; leaving the page default`);
    return false;
  }
  await page.selectOption(selector, value);
  return true;
}

/** Sets an <input>'s value and dispatches input + change, like a user would. */
async function setInputValue(page, selector, value, required, warn) {
  const ok = await page.evaluate(
    ({ sel, v }) => {
      const el = document.querySelector(sel);
      if (!el) return false;
      el.value = String(v);
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
      return true;
    },
    { sel: selector, v: value },
  );
  if (!ok) {
    if (required) throw new ContractError(`${selector} is missing`);
    warn(`${selector} is missing; leaving the page default`);
  }
  return ok;
}

/** Applies ratio/mode/profile/position. Controls the user did not set may be absent. */
async function applySettings(page, opts, warn) {
  const given = opts.given || new Set();
  const ratio = normaliseRatio(opts.ratio);
  if (PRESET_RATIOS.includes(ratio)) {
    await setSelect(page, 'select#ratio', ratio, true, warn);
  } else {
    await setSelect(page, 'select#ratio', 'custom', true, warn);
    // The page shows input#custom-ratio once "custom" is chosen; type into it like a user.
    try {
      await page.fill('input#custom-ratio', ratio, { timeout: 5000 });
      await page.dispatchEvent('input#custom-ratio', 'change');
    } catch (err) {
      warn(`could not type into input#custom-ratio (${err.message.split('\n')[0]}); setting its value directly`);
      await setInputValue(page, 'input#custom-ratio', ratio, true, warn);
    }
  }
  await setSelect(page, 'select#mode', opts.mode, given.has('mode'), warn);
  await setSelect(page, 'select#profile', opts.profile, given.has('profile'), warn);
  await setSelect(page, 'select#model', opts.model, given.has('model'), warn);
  // More ratios of one export: the "Also export as" boxes.
  for (const r of (opts.ratios || []).slice(1)) {
    const box = `#more-ratios input[value="${r}"]`;
    if (!(await page.$(box))) throw new ContractError(`${box} is missing`);
    await page.check(box, { timeout: 5000 });
  }
  if (opts.twoPeople) await setSelect(page, 'select#two-people', opts.twoPeople, given.has('two-people'), warn);
  if (opts.pins && opts.pins.length) await setInputValue(page, 'input#pins', opts.pins.join('; '), true, warn);
  if (opts.subject != null) await setInputValue(page, 'input#subject', opts.subject, true, warn);
  await setInputValue(page, 'input#pos-x', opts.posX, given.has('pos-x'), warn);
  await setInputValue(page, 'input#pos-y', opts.posY, given.has('pos-y'), warn);
}

/** Reads back what the controls hold, for the report. */
function readSettings(page) {
  return page.evaluate(() => {
    const val = (sel) => {
      const el = document.querySelector(sel);
      return el ? el.value : null;
    };
    const num = (sel) => {
      const v = val(sel);
      return v === null ? null : Number(v);
    };
    let ratio = val('select#ratio');
    if (ratio === 'custom') ratio = val('input#custom-ratio');
    const settings = { ratio, mode: val('select#mode'), profile: val('select#profile'), model: val('select#model'), pos_x: num('input#pos-x'), pos_y: num('input#pos-y') };
    // Controls added later: reported where the page has them.
    for (const [key, sel] of [['two_people', 'select#two-people'], ['pins', 'input#pins'], ['subject', 'input#subject']]) {
      if (val(sel) !== null) settings[key] = val(sel);
    }
    const more = [...document.querySelectorAll('#more-ratios input:checked:not(:disabled)')].map((b) => b.value);
    if (more.length) settings.more_ratios = more.join(',');
    return settings;
  });
}

/**
 * Runs the job. opts: { url, input, out, decodeOnly, deadline (absolute, see now()),
 *   readyTimeoutS, log(line), warn(line), progress(line) }.
 * Resolves with { settings, summary, elapsedS, download: { path, bytes, suggestedName } | null,
 *   reloads (the interruptions made), missed (interruption points the job never reached unfinished) }.
 * Throws PageError, TimeoutError or ContractError.
 */
async function runJob(page, opts) {
  const log = opts.log || (() => {});
  const warn = opts.warn || log;
  const url = new URL(opts.url);
  if (opts.decodeOnly) url.searchParams.set('decode_only', '1');
  if (opts.detector && opts.detector !== 'auto') url.searchParams.set('detector', opts.detector);
  if (opts.chunkS) url.searchParams.set('chunk_s', String(opts.chunkS));
  if (opts.detectBatch) url.searchParams.set('detect_batch', String(opts.detectBatch));
  if (opts.detectWorkers !== null && opts.detectWorkers !== undefined) url.searchParams.set('detect_workers', String(opts.detectWorkers));
  if (opts.crashDetectorWorkerAt !== null && opts.crashDetectorWorkerAt !== undefined) {
    url.searchParams.set('crash_detector_worker_at', String(opts.crashDetectorWorkerAt));
  }
  if (opts.preprocess) url.searchParams.set('preprocess', opts.preprocess);

  const loadDeadline = Math.min(opts.deadline, now() + (opts.readyTimeoutS || 120));
  log(`opening ${url.href}`);
  await page.goto(url.href, { waitUntil: 'domcontentloaded', timeout: Math.max(1000, (loadDeadline - now()) * 1000) }).catch((err) => {
    throw new ContractError(`cannot open ${url.href}: ${err.message.split('\n')[0]}`);
  });
  const first = await waitForState(page, ['ready', 'error'], loadDeadline, 'the page to become ready');
  if (first === 'error') throw new PageError(await readError(page));

  await applySettings(page, opts, warn);
  const settings = await readSettings(page);

  // The drop. setInputFiles with a path hands the file to the browser without reading it here.
  const t0 = now();
  await page.setInputFiles('input#file-input', opts.input);

  // Start may stay disabled while the page looks at the file, and a bad file may fail right here.
  await waitForStartOrError(page, opts.deadline);
  if ((await readState(page)) === 'error') throw new PageError(await readError(page));
  await page.click('button#start', { timeout: Math.max(1000, (opts.deadline - now()) * 1000) });
  log('started');

  // Wait for the end, printing the page's progress now and then, and sampling the page's JS heap
  // and the pipeline worker's wasm memory (peaks, once a second).
  let lastProgress = 0;
  let lastMemory = 0;
  const memory = { peak_page_js_heap_mb: null, peak_worker_wasm_mb: null };
  const sampleMemory = async () => {
    if (now() - lastMemory < 1) return;
    lastMemory = now();
    const m = await page
      .evaluate(() => ({
        heap: performance.memory ? performance.memory.usedJSHeapSize : null,
        wasm: ((window.__reframe || {}).progress || {}).worker_memory_bytes ?? null,
      }))
      .catch(() => ({}));
    const mb = (b) => Math.round((b / 1048576) * 10) / 10;
    if (m.heap != null) memory.peak_page_js_heap_mb = Math.max(memory.peak_page_js_heap_mb || 0, mb(m.heap));
    if (m.wasm != null) memory.peak_worker_wasm_mb = Math.max(memory.peak_worker_wasm_mb || 0, mb(m.wasm));
  };
  const onPoll = async (state) => {
    await sampleMemory();
    if (!opts.progress || now() - lastProgress < 5) return;
    lastProgress = now();
    const text = await page
      .evaluate(() => {
        const r = window.__reframe || {};
        if (r.progress) return JSON.stringify(r.progress);
        // Otherwise whatever the page shows: stage label, progress text, <progress> value.
        const parts = [];
        for (const sel of ['#stage-label', '#progress-text', '#progress']) {
          const el = document.querySelector(sel);
          if (!el) continue;
          if (el.tagName === 'PROGRESS') parts.push(`(${Math.round((100 * el.value) / (el.max || 1))}%)`);
          else if (el.textContent.trim()) parts.push(el.textContent.replace(/\s+/g, ' ').trim());
        }
        return parts.join(' ');
      })
      .catch(() => '');
    opts.progress(`[${(now() - t0).toFixed(1)} s] ${state} ${text}`);
  };
  // Interruptions (--reload-at, --restart-browser-at): each one when overall progress passes it.
  const pending = [...(opts.interruptions || [])];
  const reloads = [];
  let end;
  for (;;) {
    let state = '';
    try {
      state = await readState(page);
    } catch (err) {
      if (/crash|closed|Target/i.test(err.message)) throw new ContractError(`the page crashed while waiting for the job to finish: ${err.message}`);
    }
    if (state === 'done' || state === 'error') {
      end = state;
      break;
    }
    await onPoll(state);
    if (pending.length && state === 'running') {
      const info = await page.evaluate(() => {
        const r = window.__reframe || {};
        return { p: r.progress || null, started: r.started || null };
      });
      const frac = overallProgress(info.p, opts.mode);
      // Not while finishing, nor in the last tenth of the encode pass: the job may end before the
      // interruption takes effect, leaving nothing to resume. Points not reached before that are
      // reported as missed.
      const interruptible = info.p && info.p.stage !== 'finishing' &&
        !(info.p.stage === 'processing' && info.p.frames_done > 0.9 * info.p.frames_total);
      if (frac != null && interruptible && info.started && frac >= pending[0].at) {
        const it = pending.shift();
        log(`${it.kind === 'reload' ? 'reloading the page' : 'killing and restarting Chromium'} at ${(100 * frac).toFixed(1)}% (${info.p.stage} ${info.p.frames_done}/${info.p.frames_total})`);
        page = await interrupt(page, url, it, frac, info, opts, reloads);
      }
    }
    if (now() > opts.deadline) throw new TimeoutError(`timed out waiting for the job to finish (state is "${state || 'none'}")`);
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const it of pending) log(`no ${it.kind === 'reload' ? 'reload' : 'browser restart'} at ${it.at}: the job was about to finish first`);
  const missed = pending.map((it) => ({ kind: it.kind, at: it.at }));
  if (end === 'error') throw new PageError(await readError(page));

  const summary = await page.evaluate(() => (window.__reframe && window.__reframe.summary) || null);
  if (!summary || typeof summary !== 'object') throw new ContractError('state is done but window.__reframe.summary is missing');

  if (opts.decodeOnly) {
    return { settings, summary, elapsedS: now() - t0, download: null, reloads, missed, page };
  }

  // The download link is ready once it has an href; that ends elapsed_s.
  await waitForDownloadLink(page, opts.deadline);
  const elapsedS = now() - t0;
  // The first ratio's link, then one a.download-more per further ratio, in their order.
  const links = ['a#download'];
  const more = (opts.ratios || []).length - 1;
  for (let i = 1; i <= more; i++) links.push(`#more-downloads a.download-more:nth-child(${i})`);
  const summaries = await page.evaluate(() => (window.__reframe && window.__reframe.summaries) || null);
  if (more > 0 && (!Array.isArray(summaries) || summaries.length !== more + 1)) {
    throw new ContractError(`asked for ${more + 1} ratios, the page made ${Array.isArray(summaries) ? summaries.length : 'no list of'} outputs`);
  }
  // The page lists the further ratios in the order of its boxes; the caller's order is kept.
  const ratios = opts.ratios || [opts.ratio];
  const pageOrder = [ratios[0], ...PRESET_RATIOS.filter((r) => r !== ratios[0] && ratios.slice(1).includes(r))];
  const downloads = [];
  const inOrder = [];
  for (const [i, link] of links.entries()) {
    const at = ratios.indexOf(pageOrder[i]);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: Math.max(1000, (opts.deadline - now()) * 1000) }),
      page.click(link, { timeout: 10000 }),
    ]);
    const failure = await download.failure();
    if (failure) throw new ContractError(`the download failed: ${failure}`);
    const suggestedName = download.suggestedFilename();
    const target = opts.outFor ? opts.outFor(at, suggestedName) : opts.out;
    await download.saveAs(target);
    downloads[at] = { path: target, suggestedName };
    inOrder[at] = (summaries || [summary])[i];
  }
  return { settings, summary, summaries: inOrder, elapsedS, download: downloads[0], downloads, reloads, missed, page, memory };
}

/** The job's overall progress 0..1 from the page's last progress (auto mode: analysis is the first
 *  half), or null while it cannot be told (reading, loading the model). */
function overallProgress(p, mode) {
  if (!p) return null;
  const f = p.frames_total ? p.frames_done / p.frames_total : 0;
  if (p.stage === 'finishing') return 1;
  if (mode === 'auto') {
    if (p.stage === 'analysing') return 0.5 * f;
    if (p.stage === 'processing') return 0.5 + 0.5 * f;
    return null;
  }
  return p.stage === 'processing' ? f : null;
}

/**
 * Reloads the page (or kills and restarts Chromium), then resumes as a user would: the job's
 * Resume button, then the same file in the file chooser. Records the interruption in `reloads`
 * with the frames the worker does again. Resolves with the page to go on with.
 */
async function interrupt(page, url, it, frac, info, opts, reloads) {
  const jobId = info.started.job_id;
  const before = { kind: it.kind, at: it.at, at_progress: Math.round(frac * 1000) / 1000, stage: info.p.stage, frames_done: info.p.frames_done };
  if (it.kind === 'reload') {
    await page.reload({ waitUntil: 'domcontentloaded' });
  } else {
    page = await opts.restartBrowser();
    await page.goto(url.href, { waitUntil: 'domcontentloaded' });
  }
  const ready = await waitForState(page, ['ready', 'error'], opts.deadline, 'the page to become ready after the interruption');
  if (ready === 'error') throw new PageError(await readError(page));
  const resume = `li.job[data-job-id="${jobId}"] button.job-resume`;
  await page.waitForSelector(resume, { timeout: 60000 }).catch(() => {
    throw new ContractError(`after the interruption the page lists no Resume button for job ${jobId}`);
  });
  const [chooser] = await Promise.all([page.waitForEvent('filechooser', { timeout: 30000 }), page.click(resume)]);
  await chooser.setFiles(opts.input);
  let started = null;
  for (;;) {
    const r = await page.evaluate(() => ({ started: (window.__reframe || {}).started || null, state: document.body.dataset.state }));
    if (r.state === 'error') throw new PageError(await readError(page));
    if (r.started) {
      started = r.started;
      break;
    }
    if (now() > opts.deadline) throw new TimeoutError('timed out waiting for the resumed job to start');
    await new Promise((res) => setTimeout(res, 50));
  }
  const r = started.resumed || {};
  let redone;
  if (before.stage === 'analysing') {
    redone = r.analysis_from_frame == null ? 0 : Math.max(0, before.frames_done - r.analysis_from_frame);
  } else {
    redone = Math.max(0, before.frames_done - (r.encode_from_frame ?? 0));
  }
  reloads.push({ ...before, resumed: r, frames_redone: redone });
  return page;
}

async function waitForStartOrError(page, deadline) {
  for (;;) {
    const s = await page.evaluate(() => {
      const b = document.querySelector('button#start');
      return { state: (document.body && document.body.dataset.state) || '', exists: Boolean(b), enabled: Boolean(b && !b.disabled) };
    });
    if (s.state === 'error') return;
    if (!s.exists) throw new ContractError('button#start is missing');
    if (s.enabled) return;
    if (now() > deadline) throw new TimeoutError('timed out waiting for button#start to be enabled');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitForDownloadLink(page, deadline) {
  for (;;) {
    // Ready = a real href (not the placeholder "#") on a link that is not hidden.
    const ok = await page.evaluate(() => {
      const a = document.querySelector('a#download');
      const href = a && a.getAttribute('href');
      return Boolean(href && href !== '#' && !a.closest('[hidden]'));
    });
    if (ok) return;
    if (now() > deadline) throw new TimeoutError('timed out waiting for a#download to get an href');
    await new Promise((r) => setTimeout(r, 50));
  }
}

module.exports = { runJob, PageError, TimeoutError, ContractError, now, readError };
