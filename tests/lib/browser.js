'use strict';
// Launches the system Chromium (never a downloaded one) with a fresh profile.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { findByUserDataDir } = require('./rss');

/** Flags from the issue; WebGPU is enabled for later features (detection). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];

/**
 * Launches Chromium with a new user data dir (so OPFS and caches start empty).
 * Resolves with { context, page, userDataDir, close() }; close() also deletes the profile.
 */
async function launchBrowser({ executablePath = '/usr/bin/chromium', extraArgs = [], userDataDir: reuse = null } = {}) {
  if (!fs.existsSync(executablePath)) {
    throw new Error(`${executablePath} not found: install Debian's chromium (apt-get install -y chromium)`);
  }
  // $REFRAME_PROFILE_TAG lets tests recognise their own profiles (to check none is left behind).
  const tag = (process.env.REFRAME_PROFILE_TAG || '').replace(/[^\w-]/g, '');
  const userDataDir = reuse || fs.mkdtempSync(path.join(os.tmpdir(), `reframe-chromium-${tag}`));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      acceptDownloads: true,
      args: [...CHROMIUM_ARGS, ...extraArgs],
      viewport: { width: 1280, height: 800 },
      // Our callers close the browser (and delete the profile) on signals themselves.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  } catch (err) {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] || (await context.newPage());
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await context.close();
    } catch {
      /* the browser may already be gone */
    }
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };
  /** Kills Chromium at once (like a crash), keeping the profile for a restart. */
  const kill = async () => {
    closed = true;
    const pid = findByUserDataDir(userDataDir);
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await context.close().catch(() => {});
  };
  return { context, page, userDataDir, close, kill };
}

/**
 * Chromium started here (headless, its own new profile) and attached with Playwright's
 * connectOverCDP without its defaults, so that a tab can really go to the background: a browser
 * that Playwright launches itself emulates focus on every page, which keeps each one "visible"
 * (no hidden state, no throttled timers). Resolves with { context, page, hide(), show(), close() }:
 * hide() opens another tab in the same window and brings it to the front (the page's
 * `document.visibilityState` becomes 'hidden' and its timers are throttled, as in a background
 * tab); show() brings the page back.
 */
async function launchBackgroundable({ executablePath = '/usr/bin/chromium', extraArgs = [] } = {}) {
  const { spawn } = require('node:child_process');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reframe-chromium-bg-'));
  const child = spawn(executablePath, ['--headless=new', '--remote-debugging-port=0', `--user-data-dir=${userDataDir}`,
    '--window-size=1280,800', ...CHROMIUM_ARGS, ...extraArgs, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  // Its own process group: closing kills the browser's helper processes with it.
  const kill = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  const exited = new Promise((r) => child.once('exit', r));
  // Never left behind, even if a test forgets to close it.
  const killOnExit = kill;
  process.once('exit', killOnExit);
  let closing = null;
  const close = () => {
    closing ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        kill();
        // At most 10 s: a test must not hang on its cleanup.
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10000).unref())]);
      }
      try {
        fs.rmSync(userDataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
      } catch {
        /* a helper process still writing: the temporary profile stays */
      }
    })();
    return closing;
  };
  try {
    const endpoint = await new Promise((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`chromium printed no DevTools address: ${seen.slice(-500)}`)), 30000);
      child.stderr.on('data', (d) => {
        seen += d;
        const m = /DevTools listening on (ws:\S+)/.exec(seen);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`chromium exited (${code}): ${seen.slice(-500)}`)));
    });
    // From here the browser's output is not read: it must not keep this process alive.
    child.stderr.destroy();
    child.unref();
    // isLocal: files given to inputs go by path (not sent through the connection).
    const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true, isLocal: true });
    const context = browser.contexts()[0];
    const page = context.pages()[0] || (await context.newPage());
    await page.setViewportSize({ width: 1280, height: 800 });
    const cdp = await context.newCDPSession(page);
    let cover = null;
    const hide = async () => {
      cover ??= (await cdp.send('Target.createTarget', { url: 'about:blank', newWindow: false })).targetId;
      await cdp.send('Target.activateTarget', { targetId: cover });
    };
    const show = () => page.bringToFront();
    const closeAll = async () => {
      await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000).unref())]);
      await close();
    };
    return { context, page, hide, show, close: closeAll };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Sends the page's console messages, uncaught errors and crashes to `write(line)`.
 */
function forwardPageLog(page, write) {
  page.on('console', (msg) => {
    const loc = msg.location();
    const where = loc && loc.url ? ` (${loc.url.replace(/^https?:\/\/[^/]+/, '')}:${loc.lineNumber})` : '';
    write(`[console.${msg.type()}] ${msg.text()}${msg.type() === 'error' ? where : ''}`);
  });
  page.on('pageerror', (err) => write(`[pageerror] ${err.stack || err.message || err}`));
  page.on('crash', () => write('[crash] the page crashed'));
  page.on('requestfailed', (req) => {
    const f = req.failure();
    // Aborted downloads/blobs are normal; report the rest.
    if (f && !/ERR_ABORTED/.test(f.errorText)) write(`[requestfailed] ${req.url()} ${f.errorText}`);
  });
}

module.exports = { launchBrowser, launchBackgroundable, forwardPageLog, CHROMIUM_ARGS };
