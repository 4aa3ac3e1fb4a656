'use strict';
// The checks of an output MP4 against its input: exact size, same frame count,
// duration within one frame, audio copied with the same duration, and pixels equal to
// ffmpeg's own crop of the same region (PSNR >= 30 dB on sampled frames).

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { outputSize, place } = require('./geometry');
const { probe, countFrames, streamTiming, mp4Boxes, cropPsnr } = require('./probe');

const MIN_PSNR_DB = 30;

/** Indices of `count` frames spread evenly over `total` (first and last included). */
function sampleFrames(total, count = 5) {
  if (total <= count) return [...Array(total).keys()];
  const out = new Set();
  for (let k = 0; k < count; k++) out.add(Math.round((k * (total - 1)) / (count - 1)));
  return [...out];
}

/**
 * Checks `out` (made from `input`) and the process-headless `report`.
 * settings: { ratio: 'W:H', mode: 'fixed'|'auto', posX, posY } as asked on the command line.
 * Resolves with a few measured numbers for the test log. Throws AssertionError on a mismatch.
 */
async function checkOutput(input, out, report, settings) {
  const facts = {};
  const inP = await probe(input);
  const outP = await probe(out);
  assert.ok(outP.video, 'the output has a video stream');
  assert.match(outP.format_name, /mp4/, 'the output is an MP4');
  assert.ok(mp4Boxes(out).top.includes('moov'), 'the output has a moov box');

  // Exact size: the largest even crop of the ratio inside the input's display size.
  const W = inP.video.display_width;
  const H = inP.video.display_height;
  const expected = outputSize(W, H, settings.ratio);
  const shown = { width: outP.video.display_width, height: outP.video.display_height };
  assert.deepEqual(shown, expected, `output size for ${settings.ratio} of ${W}x${H}`);
  if (report.output_size) assert.deepEqual({ width: report.output_size.width, height: report.output_size.height }, expected, 'report.output_size');
  facts.size = `${shown.width}x${shown.height}`;
  facts.codec = `${outP.video.codec} ${outP.video.profile || ''}`.trim();

  // Same number of frames.
  const inFrames = await countFrames(input);
  const outFrames = await countFrames(out);
  assert.equal(outFrames, inFrames, 'decoded frames in the output vs the input');
  assert.equal(report.frames_in, inFrames, 'report.frames_in');
  assert.equal(report.frames_out, inFrames, 'report.frames_out');
  facts.frames = outFrames;

  // Duration within one frame (the longest frame of the input, for VFR).
  const inT = await streamTiming(input, 'v:0');
  const outT = await streamTiming(out, 'v:0');
  const oneFrame = inT.maxFrame + 0.001;
  assert.ok(Math.abs(outT.duration - inT.duration) <= oneFrame,
    `video duration ${outT.duration.toFixed(4)} s vs input ${inT.duration.toFixed(4)} s (allowed ${oneFrame.toFixed(4)})`);
  facts.duration = outT.duration;

  // Audio copied (same codec, same duration within one AAC frame, in sync), or absent as in the input.
  if (inP.audio) {
    assert.ok(outP.audio, 'the output has the audio track');
    assert.equal(outP.audio.codec, inP.audio.codec, 'audio codec (copied, not re-encoded)');
    assert.equal(outP.audio.sample_rate, inP.audio.sample_rate);
    assert.equal(outP.audio.channels, inP.audio.channels);
    const aacFrame = 1024 / inP.audio.sample_rate + 0.001;
    const inA = inP.audio.duration ?? (await streamTiming(input, 'a:0')).duration;
    const outA = outP.audio.duration ?? (await streamTiming(out, 'a:0')).duration;
    assert.ok(Math.abs(outA - inA) <= aacFrame, `audio duration ${outA} s vs input ${inA} s (allowed ${aacFrame.toFixed(4)})`);
    // Sync: the audio starts at the same time relative to the video as in the input.
    const inOffset = (inP.audio.start_time || 0) - (inP.video.start_time || 0);
    const outOffset = (outP.audio.start_time || 0) - (outP.video.start_time || 0);
    assert.ok(Math.abs(outOffset - inOffset) <= Math.max(aacFrame, oneFrame),
      `audio starts ${outOffset.toFixed(4)} s after the video, input ${inOffset.toFixed(4)} s`);
    assert.equal(report.audio_copied, true, 'report.audio_copied');
    facts.audio = outA;
  } else {
    assert.equal(outP.audio, null, 'no audio in the input, none in the output');
    assert.equal(report.audio_copied, false, 'report.audio_copied');
  }

  // The report: one crop rectangle per output frame, of the output size, inside the source.
  const cp = report.crop_path;
  assert.equal(cp.length, inFrames, 'crop_path has one entry per output frame');
  let prev = -Infinity;
  for (const c of cp) {
    assert.equal(c.width, expected.width);
    assert.equal(c.height, expected.height);
    assert.ok(c.x >= 0 && c.y >= 0 && c.x + c.width <= W && c.y + c.height <= H, `crop ${JSON.stringify(c)} inside ${W}x${H}`);
    assert.ok(c.timestamp_us > prev, 'crop_path timestamps increase');
    prev = c.timestamp_us;
  }
  if ((settings.mode || 'fixed') === 'fixed') {
    const want = place(W, H, expected, settings.posX ?? 50, settings.posY ?? 50);
    for (const c of cp) {
      assert.ok(Math.abs(c.x - want.x) <= 2 && Math.abs(c.y - want.y) <= 2,
        `fixed crop at ${c.x},${c.y}; the sliders ask for ${want.x},${want.y}`);
      assert.ok(c.x === cp[0].x && c.y === cp[0].y, 'a fixed crop does not move');
    }
    facts.crop = `${cp[0].x},${cp[0].y}`;
  }
  if (report.saved_bytes != null) assert.equal(fs.statSync(out).size, report.saved_bytes);
  if (report.output_bytes != null) assert.equal(fs.statSync(out).size, report.output_bytes, 'report.output_bytes = downloaded size');
  if (report.download_name) {
    const stem = path.basename(input).replace(/\.[^.]+$/, '');
    assert.ok(report.download_name.startsWith(stem) && report.download_name.endsWith('.mp4'), `download name ${report.download_name}`);
  }

  // Pixels: our frames against ffmpeg's crop of the same rectangle of the same input frame.
  const frames = sampleFrames(inFrames);
  const groups = new Map();
  for (const n of frames) {
    const c = cp[n];
    const key = `${c.x},${c.y},${c.width},${c.height}`;
    if (!groups.has(key)) groups.set(key, { rect: c, frames: [] });
    groups.get(key).frames.push(n);
  }
  const psnr = await cropPsnr(input, out, [...groups.values()]);
  for (const p of psnr) {
    assert.ok(p.psnr_avg >= MIN_PSNR_DB, `frame ${p.frame}: PSNR ${p.psnr_avg.toFixed(2)} dB < ${MIN_PSNR_DB} dB against ffmpeg's crop`);
  }
  facts.psnr_min = Math.min(...psnr.map((p) => p.psnr_avg));
  return facts;
}

module.exports = { checkOutput, sampleFrames, MIN_PSNR_DB };
