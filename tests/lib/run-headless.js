'use strict';
// Runs tests/process-headless as a child process (the way users and the benchmark run it).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { run } = require('./proc');

const SCRIPT = path.join(__dirname, '..', 'process-headless');

/** A fresh folder for one test's outputs: $REFRAME_E2E_OUT/<name> or a temp dir. */
function outDir(name) {
  const base = process.env.REFRAME_E2E_OUT || path.join(os.tmpdir(), 'reframe-e2e');
  const dir = path.join(base, name.replace(/[^\w.-]+/g, '_'));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Runs process-headless with `args` (an array). Resolves with
 * { code, stderr, report (parsed, or null), seconds }.
 * `timeoutMs` kills it (SIGKILL) as a last resort; normally --timeout-s ends it first.
 * `env` adds environment variables.
 */
async function runHeadless(args, { timeoutMs = 15 * 60 * 1000, reportPath = null, env = {} } = {}) {
  const r = await run(process.execPath, [SCRIPT, ...args], { timeoutMs, env: { ...process.env, ...env } });
  let report = null;
  if (reportPath && fs.existsSync(reportPath)) {
    try {
      report = JSON.parse(fs.readFileSync(reportPath, 'utf8'));
    } catch {
      report = null;
    }
  }
  return { code: r.code, signal: r.signal, stderr: r.stderr, stdout: r.stdout, report, seconds: r.seconds };
}

/** The last lines of a process-headless stderr, for assertion messages. */
function tail(text, n = 25) {
  return text.split('\n').slice(-n).join('\n');
}

module.exports = { runHeadless, outDir, tail, SCRIPT };
