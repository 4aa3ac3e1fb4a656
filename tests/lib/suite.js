'use strict';
// What every end-to-end test file needs: the site built once, the --no-build switch, and clips
// that skip the test when a prerequisite (like opencv-doc) is missing.

const path = require('node:path');
const media = require('../media');
const { ensureBuilt } = require('./build');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
// REFRAME_NO_BUILD=1: test the dist/ and host that are there (no trunk/cargo build).
const NO_BUILD = process.env.REFRAME_NO_BUILD === '1';
const BUILD_ARGS = NO_BUILD ? ['--no-build'] : [];

// Build once up front (per process), so a build failure reads as one clear message (and the
// first job's elapsed time does not include the build).
let built = null;
function ensureSite(label = 'e2e') {
  if (NO_BUILD) return Promise.resolve();
  if (!built) built = ensureBuilt(REPO_ROOT, (m) => process.stderr.write(`${label}: ${m}\n`));
  return built;
}

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

module.exports = { REPO_ROOT, NO_BUILD, BUILD_ARGS, ensureSite, clipOrSkip };
