'use strict';
// Builds the site (trunk) and the static host (cargo) when they are missing or older than
// their sources. The staleness test is by modification time, like make.

const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { run, haveCommand } = require('./proc');

/** Sources of the site: a change in any of these makes dist/ stale. */
const SITE_SOURCES = ['app', 'worker', 'core', 'www', 'Trunk.toml', 'Cargo.toml', 'Cargo.lock'];
/** Sources of the host binary (it depends on no other crate of the workspace). */
const HOST_SOURCES = ['host', 'Cargo.toml', 'Cargo.lock'];

/**
 * The site's sources: SITE_SOURCES plus every other workspace member in Cargo.toml (a crate
 * added later, like a detection crate, counts without editing this file), except the host.
 */
function siteSources(root) {
  const extra = [];
  try {
    const toml = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8');
    const m = /members\s*=\s*\[([^\]]*)\]/.exec(toml);
    if (m) for (const q of m[1].matchAll(/"([^"]+)"/g)) extra.push(q[1]);
  } catch {
    /* no workspace: the fixed list */
  }
  return [...new Set([...SITE_SOURCES, ...extra.filter((d) => d !== 'host' && !d.startsWith('tests'))])];
}
/** Folders never looked into when scanning sources. */
const SKIP_DIRS = new Set(['target', 'node_modules', '.git', 'dist']);

/** Newest mtime (ms) of the files under `paths` (relative to root); 0 when none exist. */
function newestMtime(root, paths) {
  let newest = 0;
  let newestFile = null;
  const visit = (p) => {
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      return; // missing source: ignore
    }
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(p)) {
        if (SKIP_DIRS.has(name)) continue;
        visit(path.join(p, name));
      }
    } else if (st.mtimeMs > newest) {
      newest = st.mtimeMs;
      newestFile = p;
    }
  };
  for (const p of paths) visit(path.join(root, p));
  return { mtime: newest, file: newestFile };
}

/** mtime (ms) of a file, or -1 when it does not exist. */
function mtimeOf(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/** PATH with ~/.cargo/bin added (trunk and wasm-bindgen live there). */
function buildEnv() {
  const cargoBin = path.join(os.homedir(), '.cargo', 'bin');
  const parts = (process.env.PATH || '').split(':');
  if (!parts.includes(cargoBin)) parts.push(cargoBin);
  return { ...process.env, PATH: parts.join(':') };
}

/** Why `target` needs a rebuild from `sources`, or null when it is up to date. */
function staleReason(root, target, sources) {
  const t = mtimeOf(target);
  if (t < 0) return `${path.relative(root, target)} is missing`;
  const { mtime, file } = newestMtime(root, sources);
  if (mtime > t) return `${path.relative(root, file)} is newer than ${path.relative(root, target)}`;
  return null;
}

/**
 * Makes sure dist/ and target/release/reframe-host are up to date.
 * `log` receives one-line messages. Throws an Error when a build fails.
 */
async function ensureBuilt(root, log = () => {}) {
  const env = buildEnv();

  const hostBin = path.join(root, 'target', 'release', 'reframe-host');
  const hostReason = staleReason(root, hostBin, HOST_SOURCES);
  if (hostReason) {
    log(`building the host (${hostReason}): cargo build --release -p reframe-host`);
    const r = await run('cargo', ['build', '--release', '-p', 'reframe-host'], { cwd: root, env, inherit: true, stdoutToStderr: true });
    if (r.code !== 0) throw new Error(`cargo build --release -p reframe-host failed (exit ${r.code ?? r.signal})`);
    // cargo leaves the binary untouched when nothing changed; touch it so we do not retry every run.
    if (mtimeOf(hostBin) >= 0) {
      const now = new Date();
      fs.utimesSync(hostBin, now, now);
    }
  }
  const siteReason = staleReason(root, path.join(root, 'dist', 'index.html'), siteSources(root));
  if (siteReason) {
    log(`building the site (${siteReason}): trunk build --release`);
    if (!(await haveCommand('trunk', env))) {
      throw new Error('trunk is not installed (expected on PATH or in ~/.cargo/bin); run the setup command from the README');
    }
    const r = await run('trunk', ['build', '--release'], { cwd: root, env, inherit: true, stdoutToStderr: true });
    if (r.code !== 0) throw new Error(`trunk build --release failed (exit ${r.code ?? r.signal})`);
    if (mtimeOf(path.join(root, 'dist', 'index.html')) < 0) throw new Error('trunk build finished but dist/index.html is missing');
    // The page's Content-Security-Policy, the service worker's list of files, then the brotli and
    // gzip variants the host sends (as scripts/build writes them).
    for (const step of ['csp', 'offline', 'compress']) {
      const c = await run(hostBin, [step, 'dist'], { cwd: root, env, inherit: true, stdoutToStderr: true });
      if (c.code !== 0) throw new Error(`reframe-host ${step} dist failed (exit ${c.code ?? c.signal})`);
    }
  }

  return { siteBuilt: Boolean(siteReason), hostBuilt: Boolean(hostReason) };
}

module.exports = { ensureBuilt, staleReason, newestMtime, buildEnv, siteSources, SITE_SOURCES, HOST_SOURCES };
