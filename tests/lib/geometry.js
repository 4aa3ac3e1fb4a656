'use strict';
// Crop geometry, computed independently of the app so the tests can check it.
// Mirrors the rule of the issue (and core/src/crop.rs): the output is the largest even-sided
// window of the chosen ratio inside the source's DISPLAY size (after rotation metadata).

/** Largest even number <= v. */
function floorEven(v) {
  return Math.floor(v / 2) * 2;
}

/** Nearest even number to v. */
function roundEven(v) {
  return Math.round(v / 2) * 2;
}

/**
 * Parses "W:H" (positive integers) into { w, h }; returns null when the text is not a ratio.
 */
function parseRatio(text) {
  const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(String(text));
  if (!m) return null;
  const w = Number(m[1]);
  const h = Number(m[2]);
  if (!(w > 0 && h > 0)) return null;
  return { w, h };
}

/**
 * Output size for a display size W x H and a ratio rw:rh.
 * If the height limits (the source is at least as wide as the ratio):
 *   h = floorEven(H), w = roundEven(H * rw / rh) capped at floorEven(W)
 * otherwise the same with the roles swapped.
 */
function outputSize(W, H, ratio) {
  const { w: rw, h: rh } = typeof ratio === 'string' ? parseRatio(ratio) : ratio;
  const maxW = Math.max(2, floorEven(W));
  const maxH = Math.max(2, floorEven(H));
  if (W * rh >= H * rw) {
    return { width: Math.min(Math.max(2, roundEven((H * rw) / rh)), maxW), height: maxH };
  }
  return { width: maxW, height: Math.min(Math.max(2, roundEven((W * rh) / rw)), maxH) };
}

/**
 * Where a fixed window of `size` sits in the display frame W x H for slider positions
 * px, py in 0..100 (0 = left/top, 100 = right/bottom), on even coordinates.
 * The page may move the window by one pixel to keep the coded (rotated) rectangle even,
 * so tests compare with a tolerance of 2 pixels.
 */
function place(W, H, size, px = 50, py = 50) {
  const freeX = Math.max(0, W - size.width);
  const freeY = Math.max(0, H - size.height);
  const x = Math.min(roundEven((freeX * px) / 100), floorEven(freeX));
  const y = Math.min(roundEven((freeY * py) / 100), floorEven(freeY));
  return { x, y, width: size.width, height: size.height };
}

module.exports = { floorEven, roundEven, parseRatio, outputSize, place };
