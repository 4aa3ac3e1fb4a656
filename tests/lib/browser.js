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

module.exports = { launchBrowser, forwardPageLog, CHROMIUM_ARGS };
