'use strict';
// Starts the static host (target/release/reframe-host) on a free port and finds its URL.
// The host prints one line: `Serving <root> at http://127.0.0.1:<port>/`.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const SETPRIV = '/usr/bin/setpriv';

/**
 * Starts the host (serving `site`, default dist/, and the weights trunk copied into its models/) and resolves with
 * { url, child, stop() } once it printed its URL.
 * Rejects when it exits first or prints nothing usable within `timeoutMs`.
 * `log` receives the host's own output lines (for debugging).
 */
function startHost(root, { timeoutMs = 30000, log = () => {}, site = 'dist' } = {}) {
  const bin = path.join(root, 'target', 'release', 'reframe-host');
  // The built copy of the weights, which `reframe-host compress` gave their precompressed variants.
  const args = ['--port', '0', '--root', site, '--models', path.join(site, 'models')];
  if (!fs.existsSync(bin)) {
    return Promise.reject(new Error(`${bin} is missing (cargo build --release -p reframe-host)`));
  }
  return new Promise((resolve, reject) => {
    // With util-linux's setpriv the host also dies if we are killed with SIGKILL (no cleanup).
    const child = fs.existsSync(SETPRIV)
      ? spawn(SETPRIV, ['--pdeathsig', 'TERM', '--', bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(bin, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let settled = false;
    let buffer = '';
    const recent = [];

    // SIGTERM, then SIGKILL if it is still there after 2 s. Resolves once it has exited.
    const stop = () => {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((done) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
        child.once('exit', () => {
          clearTimeout(kill);
          done();
        });
        try {
          child.kill('SIGTERM');
        } catch {
          clearTimeout(kill);
          done();
        }
      });
    };
    const fail = (message) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop();
      const tail = recent.length ? `\n${recent.join('\n')}` : '';
      reject(new Error(message + tail));
    };
    const onData = (data) => {
      buffer += data.toString('utf8');
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trimEnd();
        buffer = buffer.slice(nl + 1);
        recent.push(line);
        if (recent.length > 20) recent.shift();
        log(line);
        const m = /^Serving .* at (https?:\/\/\S+)/.exec(line);
        if (m && !settled) {
          settled = true;
          clearTimeout(timer);
          const url = m[1].endsWith('/') ? m[1] : `${m[1]}/`;
          resolve({ url, child, stop });
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => fail(`cannot start ${bin}: ${e.message}`));
    child.on('exit', (code, signal) => fail(`reframe-host exited early (${code ?? signal})`));
    const timer = setTimeout(() => fail(`reframe-host printed no "Serving ... at URL" line within ${timeoutMs / 1000} s`), timeoutMs);
  });
}

module.exports = { startHost };
