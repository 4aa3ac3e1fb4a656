#!/usr/bin/env node
'use strict';
// Test media, generated with ffmpeg at test time and cached by name.
//
//   node tests/media.js                 generate every clip, print a table
//   node tests/media.js vfr odd-1921x1081   generate only these
//   node tests/media.js --list          list the clips
//
// Files go to $REFRAME_MEDIA_DIR (default /tmp/reframe-media). Each file name carries a hash of
// its recipe, so changing a recipe makes a new file and reruns with an unchanged recipe are
// instant. In code: `await clipPath('vfr')` returns the path, generating it when needed.

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { run } = require('./lib/proc');

const MEDIA_DIR = process.env.REFRAME_MEDIA_DIR || path.join(os.tmpdir(), 'reframe-media');
const VTEST = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
const MEGAMIND = '/usr/share/doc/opencv-doc/examples/data/Megamind.avi';
const BASKETBALL = '/usr/share/doc/opencv-doc/examples/data/basketball1.png';
const MESSI = '/usr/share/doc/opencv-doc/examples/data/messi5.jpg';

/** Where the people of the 'two-apart' clip are, in its 1920x1080 frame: each photo's person box
 * and face (hand annotations of the photos, see detect/examples/eval_clips/make_clips.py, moved
 * and scaled as the recipe places them), [x0, y0, x1, y1]. */
function placed(box, cut, scale, at) {
  return box.map((v, i) => Math.round(at[i % 2] + (v - cut[i % 2]) * scale));
}
const TWO_APART = {
  left: {
    person: placed([35, 80, 165, 475], [15, 60], 900 / 420, [120, 140]),
    face: placed([62, 85, 105, 140], [15, 60], 900 / 420, [120, 140]),
  },
  right: {
    person: placed([70, 60, 455, 335], [40, 30], 600 / 312, [1040, 380]),
    face: placed([210, 68, 256, 128], [40, 30], 600 / 312, [1040, 380]),
  },
};

// ---- building blocks of the recipes ----

/** Stereo AAC source: 440 Hz left, 660 Hz right. */
const audioInput = (seconds) => ['-f', 'lavfi', '-i', `aevalsrc=sin(2*PI*440*t)|sin(2*PI*660*t):s=48000:d=${seconds}`];
const AAC = ['-c:a', 'aac', '-b:a', '128k', '-ac', '2'];
/** A red box that moves across the picture, so every frame differs. */
const MOVING_BOX = "drawbox=x='mod(t*300,iw-240)':y='ih/2-120+200*sin(t)':w=240:h=240:color=red@1:t=fill";
/** libx264 High profile, 4:2:0, one keyframe every 2 s at 30 fps. */
const X264 = (bframes) => ['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-bf', String(bframes), '-g', '60'];
const FF = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];

/** A 1080p30 test pattern with the moving box and stereo AAC. */
const patternClip = (seconds, bframes) => [
  ...FF,
  '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${seconds}`,
  ...audioInput(seconds),
  '-vf', MOVING_BOX,
  ...X264(bframes),
  ...AAC,
];

// ---- the clips ----
// kind: 'good' clips must process; 'bad' ones must end in the page's error state; 'detector', 'resume' and
// 'camera' clips serve the tests named after them.
// steps(out, tmp): list of [operation, args]: 'ffmpeg' (its arguments), 'rotate' (src, dst,
//   degrees), 'write' (file, 'empty'|'random'|'text'|'pdf', size), 'truncate' (src, dst, fraction or bytes),
//   'damage' (src, dst, box type, bytes | fraction, bytes, ...), 'record' (dst, seconds, MediaRecorder type).
//   "@name" in args stands for the path of clip `name`, which must be listed in `deps`.
//   The JSON of the steps (plus the keys of the deps) is the cache key.
// expect: what tests/tooling.test.js checks with ffprobe after generating.
// errorCodes (bad inputs): the error codes (core/src/error.rs) the page may answer with.
// ext: the file's extension when it is not an MP4 ('webm', 'mkv', 'avi', 'png').
// 'partial' clips are damaged files the page must still make what it can of, with a notice
// (noticeIncludes) in the result; 'reencoded' clips have sound an MP4 cannot hold, encoded again
// as Opus; 'silent' ones have sound this browser cannot decode (the output has none).

const CLIPS = {
  'h264-1080p30': {
    kind: 'good',
    description: '1080p30 H.264 High (no B-frames) + AAC stereo, 10 s, moving content',
    steps: (out) => [['ffmpeg', [...patternClip(10, 0), out]]],
    expect: { codec: 'h264', width: 1920, height: 1080, display: [1920, 1080], rotation: 0, frames: 300, audio: true, bframes: false },
  },
  'h264-bframes': {
    kind: 'good',
    description: 'like h264-1080p30 with 3 B-frames (composition offsets: ctts + edit list)',
    steps: (out) => [['ffmpeg', [...patternClip(10, 3), out]]],
    expect: { codec: 'h264', width: 1920, height: 1080, display: [1920, 1080], rotation: 0, frames: 300, audio: true, bframes: true, boxes: ['ctts', 'elst'] },
  },
  'portrait-rotated': {
    kind: 'good',
    description: 'phone-like portrait: coded 1920x1080 + rotation metadata (-90 = turn clockwise), shown 1080x1920',
    // The picture is drawn upright at 1080x1920 and turned a quarter anticlockwise for coding,
    // so a player that honours the rotation shows it upright.
    steps: (out, tmp) => [
      ['ffmpeg', [
        ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=1080x1920:rate=30:duration=10', ...audioInput(10),
        '-vf', `${MOVING_BOX},transpose=2`, ...X264(0), ...AAC, tmp('coded.mp4'),
      ]],
      ['rotate', [tmp('coded.mp4'), out, -90]],
    ],
    expect: { codec: 'h264', width: 1920, height: 1080, display: [1080, 1920], rotation: -90, frames: 300, audio: true, bframes: false },
  },
  'odd-1921x1081': {
    kind: 'good',
    // H.264 4:2:0 cannot have odd sizes (its cropping works in 2-pixel steps), so this is
    // High 4:4:4 Predictive, which Chromium's software decoder reads.
    description: 'odd size 1921x1081, H.264 High 4:4:4 (4:2:0 cannot be odd) + AAC, 10 s',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=1922x1082:rate=30:duration=10', ...audioInput(10),
      '-vf', `format=yuv444p,crop=1921:1081:0:0,${MOVING_BOX}`,
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv444p', '-bf', '0', '-g', '60', ...AAC, out,
    ]]],
    expect: { codec: 'h264', width: 1921, height: 1081, display: [1921, 1081], rotation: 0, frames: 300, audio: true, bframes: false, pix_fmt: 'yuv444p' },
  },
  vfr: {
    kind: 'good',
    description: 'variable frame rate: 3.5 s at 24 fps, 3.5 s at 60 fps, 3 s at 30 fps (1080p H.264 + AAC)',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=120:duration=10', ...audioInput(10),
      '-filter_complex',
      '[0:v]split=3[a][b][c];[a]trim=0:3.5,fps=24[a2];[b]trim=3.5:7,setpts=PTS-STARTPTS,fps=60[b2];' +
        `[c]trim=7:10,setpts=PTS-STARTPTS,fps=30[c2];[a2][b2][c2]concat=n=3:v=1:a=0,${MOVING_BOX}[v]`,
      '-map', '[v]', '-map', '1:a', '-fps_mode', 'vfr', '-video_track_timescale', '90000',
      ...X264(0), ...AAC, out,
    ]]],
    expect: { codec: 'h264', width: 1920, height: 1080, display: [1920, 1080], rotation: 0, frames: 384, audio: true, bframes: false, vfr: true },
  },
  'vtest-real': {
    kind: 'good',
    description: "real footage: OpenCV's vtest.avi (768x576, 10 fps, 79.5 s, pedestrians) as H.264 MP4, no audio",
    needs: VTEST,
    steps: (out) => [['ffmpeg', [...FF, '-i', VTEST, ...X264(0), '-an', out]]],
    expect: { codec: 'h264', width: 768, height: 576, display: [768, 576], rotation: 0, frames: 795, audio: false, bframes: false },
  },
  'vp9-mp4': {
    kind: 'good',
    description: 'VP9 in MP4 (640x360, 30 fps, 4 s) + AAC: a codec other than H.264 that browsers decode',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=4', ...audioInput(4), '-vf', MOVING_BOX,
      '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1M', '-g', '60', '-pix_fmt', 'yuv420p',
      ...AAC, out,
    ]]],
    expect: { codec: 'vp9', width: 640, height: 360, display: [640, 360], rotation: 0, frames: 120, audio: true, bframes: false },
  },
  'av1-mp4': {
    kind: 'good',
    description: 'AV1 in MP4 (640x360, 30 fps, 4 s, SVT-AV1) + AAC',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=4', ...audioInput(4), '-vf', MOVING_BOX,
      '-c:v', 'libsvtav1', '-preset', '12', '-g', '60', '-pix_fmt', 'yuv420p', ...AAC, out,
    ]]],
    expect: { codec: 'av1', width: 640, height: 360, display: [640, 360], rotation: 0, frames: 120, audio: true, bframes: false },
  },
  'over-4gb': {
    kind: 'good',
    description: 'a 4.4 GB file: 640x360 H.264 (B-frames) + AAC after a sparse 4.4 GB free box, offsets in co64',
    // The padding is a hole in a sparse file: no disk space, no time, but every sample offset is
    // past 4 GiB, so 32-bit offsets or sizes anywhere in the pipeline would break.
    steps: (out, tmp) => [
      ['ffmpeg', [
        ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=4', ...audioInput(4), '-vf', MOVING_BOX,
        ...X264(3), ...AAC, tmp('small.mp4'),
      ]],
      ['pad4g', [tmp('small.mp4'), out]],
    ],
    expect: { codec: 'h264', width: 640, height: 360, display: [640, 360], rotation: 0, frames: 120, audio: true, bframes: true, boxes: ['co64'] },
  },
  megamind: {
    kind: 'camera',
    description: "real footage with faces: OpenCV's Megamind.avi (720x528, 24 fps, 11 s, a dialogue with three cuts) as H.264 MP4, no audio; hand-made truth in detect/examples/eval_clips/megamind.truth.json",
    needs: MEGAMIND,
    // passthrough: one output frame per decoded frame, so frame n is the truth's frame n.
    steps: (out) => [['ffmpeg', [...FF, '-i', MEGAMIND, '-fps_mode', 'passthrough', ...X264(0), '-an', out]]],
    expect: { codec: 'h264', width: 720, height: 528, display: [720, 528], rotation: 0, frames: 270, audio: false, bframes: false },
  },
  'two-apart': {
    kind: 'camera',
    description: "two people far apart, still (OpenCV's basketball1.png player at the left, 900 px tall, and the footballer of messi5.jpg at the right), 1920x1080, 4 s at 30 fps with stereo AAC: for split screens",
    needs: BASKETBALL,
    steps: (out) => [['ffmpeg', [
      ...FF,
      '-f', 'lavfi', '-i', 'color=c=0x5a4632:s=1920x1080:r=30:d=4',
      '-loop', '1', '-framerate', '30', '-i', BASKETBALL,
      '-loop', '1', '-framerate', '30', '-i', MESSI,
      ...audioInput(4),
      '-filter_complex',
      '[1:v]crop=170:420:15:60,scale=-2:900[a];[2:v]crop=440:312:40:30,scale=-2:600[b];' +
        '[0:v][a]overlay=120:140:shortest=1[ab];[ab][b]overlay=1040:380:shortest=1,noise=alls=5:allf=t[v]',
      '-map', '[v]', '-map', '3:a', '-t', '4', ...X264(2), ...AAC, out,
    ]]],
    expect: { codec: 'h264', width: 1920, height: 1080, display: [1920, 1080], rotation: 0, frames: 120, audio: true, bframes: true },
  },
  'vtest-short': {
    kind: 'good',
    description: "the first 6 s of OpenCV's vtest.avi (pedestrians) as H.264 MP4: for auto mode",
    needs: VTEST,
    steps: (out) => [['ffmpeg', [...FF, '-i', VTEST, '-t', '6', ...X264(0), '-an', out]]],
    expect: { codec: 'h264', width: 768, height: 576, display: [768, 576], rotation: 0, frames: 60, audio: false, bframes: false },
  },
  'vtest-3s': {
    kind: 'detector',
    description: "the first 3 s of OpenCV's vtest.avi as H.264 MP4: WebGPU vs CPU detector (SwiftShader is slow)",
    needs: VTEST,
    steps: (out) => [['ffmpeg', [...FF, '-i', VTEST, '-t', '3', ...X264(0), '-an', out]]],
    expect: { codec: 'h264', width: 768, height: 576, display: [768, 576], rotation: 0, frames: 30, audio: false, bframes: false },
  },
  'vtest-1s': {
    kind: 'detector',
    description: "the first second of OpenCV's vtest.avi as H.264 MP4: WebGPU vs CPU for the QUALITY detector (13 s per frame on SwiftShader)",
    needs: VTEST,
    steps: (out) => [['ffmpeg', [...FF, '-i', VTEST, '-t', '1', ...X264(0), '-an', out]]],
    expect: { codec: 'h264', width: 768, height: 576, display: [768, 576], rotation: 0, frames: 10, audio: false, bframes: false },
  },
  'vtest-20s': {
    kind: 'resume',
    // Upscaled to 1440x1080 so that the encode pass lasts about a second (at 768x576 it took
    // 0.4 s): long enough for a reload to land in it.
    description: "the first 20 s of OpenCV's vtest.avi upscaled to 1440x1080, as H.264 MP4 with a 440 Hz AAC tone: resume tests",
    needs: VTEST,
    steps: (out) => [['ffmpeg', [...FF, '-i', VTEST, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '20',
      '-vf', 'scale=1440:1080:flags=lanczos', ...X264(0), '-c:a', 'aac', '-ac', '2', '-b:a', '96k', '-shortest', out]]],
    expect: { codec: 'h264', width: 1440, height: 1080, display: [1440, 1080], rotation: 0, frames: 200, audio: true, bframes: false },
  },
  'bench-1080p30-60s': {
    kind: 'bench',
    description: '1080p30 H.264 + AAC, 60 s, for tests/bench',
    steps: (out) => [['ffmpeg', [...patternClip(60, 0), out]]],
    expect: { codec: 'h264', width: 1920, height: 1080, display: [1920, 1080], rotation: 0, frames: 1800, audio: true, bframes: false },
  },

  // ---- other containers (issue 18) ----
  'webm-vp9-opus': {
    kind: 'good',
    description: 'WebM: VP9 + Opus, 640x360, 3 s (as browsers and screen recorders write)',
    ext: 'webm',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=3', ...audioInput(3), '-vf', MOVING_BOX,
      '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '800k', '-g', '60', '-c:a', 'libopus', '-b:a', '64k', out,
    ]]],
    expect: { codec: 'vp9', width: 640, height: 360, display: [640, 360], rotation: 0, frames: 90, audio: true, audioCodec: 'opus', bframes: false },
  },
  'mkv-h264-aac': {
    kind: 'good',
    description: 'Matroska (MKV, as OBS records): H.264 High with B-frames + AAC, 640x360, 3 s',
    ext: 'mkv',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=3', ...audioInput(3), '-vf', MOVING_BOX,
      ...X264(3), ...AAC, out,
    ]]],
    expect: { codec: 'h264', width: 640, height: 360, display: [640, 360], rotation: 0, frames: 90, audio: true, bframes: true },
  },
  'fragmented-mp4': {
    kind: 'good',
    description: 'fragmented MP4 (empty moov, a moof per keyframe, as editors and live tools export): H.264 + AAC, 640x360, 4 s',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=4', ...audioInput(4), '-vf', MOVING_BOX,
      ...X264(0), '-g', '30', ...AAC, '-movflags', 'frag_keyframe+empty_moov+default_base_moof', out,
    ]]],
    expect: { codec: 'h264', width: 640, height: 360, display: [640, 360], rotation: 0, frames: 120, audio: true, bframes: false },
  },
  'mediarecorder-webm': {
    kind: 'good',
    description: "WebM recorded by this Chromium's MediaRecorder (VP9 + Opus, unknown-size clusters, no Cues): a canvas, 3 s",
    ext: 'webm',
    steps: (out) => [['record', [out, 3, 'video/webm;codecs=vp9,opus']]],
  },
  'h264-10bit': {
    kind: 'good',
    description: '10-bit H.264 (High 10, 4:2:0) + AAC, 640x360, 2 s: this Chromium decodes it; the output is 8-bit H.264',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=2', ...audioInput(2), '-vf', MOVING_BOX,
      '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high10', '-pix_fmt', 'yuv420p10le', '-bf', '0', ...AAC, out,
    ]]],
    expect: { codec: 'h264', width: 640, height: 360, display: [640, 360], rotation: 0, frames: 60, audio: true, bframes: false, pix_fmt: 'yuv420p10le' },
  },
  'vp9-10bit-webm': {
    kind: 'good',
    description: '10-bit VP9 (profile 2) + Opus in WebM, 640x360, 2 s',
    ext: 'webm',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=2', ...audioInput(2), '-vf', MOVING_BOX,
      '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-profile:v', '2', '-pix_fmt', 'yuv420p10le', '-b:v', '800k',
      '-c:a', 'libopus', '-b:a', '64k', out,
    ]]],
    expect: { codec: 'vp9', width: 640, height: 360, display: [640, 360], rotation: 0, frames: 60, audio: true, audioCodec: 'opus', bframes: false, pix_fmt: 'yuv420p10le' },
  },
  'h264-60fps': {
    kind: 'good',
    description: '1280x720 at 60 fps, H.264 + AAC, 2 s',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=60:duration=2', ...audioInput(2), '-vf', MOVING_BOX, ...X264(0), ...AAC, out,
    ]]],
    expect: { codec: 'h264', width: 1280, height: 720, display: [1280, 720], rotation: 0, frames: 120, audio: true, bframes: false },
  },
  'tiny-64x36': {
    kind: 'good',
    description: 'a tiny 64x36 H.264 video, 1 s, no audio (the 9:16 crop is 20x36)',
    steps: (out) => [['ffmpeg', [...FF, '-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=30:duration=1', ...X264(0), '-an', out]]],
    expect: { codec: 'h264', width: 64, height: 36, display: [64, 36], rotation: 0, frames: 30, audio: false, bframes: false },
  },
  'one-frame': {
    kind: 'good',
    description: 'a video of a single frame, 320x240 H.264, no audio',
    steps: (out) => [['ffmpeg', [...FF, '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-frames:v', '1', ...X264(0), '-an', out]]],
    expect: { codec: 'h264', width: 320, height: 240, display: [320, 240], rotation: 0, frames: 1, audio: false, bframes: false },
  },
  'webm-vp8-vorbis': {
    kind: 'reencoded',
    description: 'WebM: VP8 + Vorbis (an MP4 cannot hold Vorbis: the sound is encoded again as Opus, and the page says so)',
    ext: 'webm',
    noticeIncludes: 'Vorbis',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=2', ...audioInput(2), '-vf', MOVING_BOX,
      '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '800k', '-c:a', 'libvorbis', out,
    ]]],
  },
  'mkv-flac': {
    kind: 'reencoded',
    description: 'MKV: H.264 + FLAC stereo at 44.1 kHz (encoded again as Opus)',
    ext: 'mkv',
    noticeIncludes: 'FLAC',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=2', ...audioInput(2), '-vf', MOVING_BOX,
      ...X264(0), '-c:a', 'flac', '-ar', '44100', out,
    ]]],
  },
  'mkv-ac3': {
    kind: 'silent',
    description: 'MKV: H.264 + AC-3 (this Chromium decodes no AC-3: the output is silent, and the page says why)',
    ext: 'mkv',
    noticeIncludes: 'AC-3',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=2', ...audioInput(2), '-vf', MOVING_BOX,
      ...X264(0), '-c:a', 'ac3', out,
    ]]],
  },
  'two-audio-mp4': {
    kind: 'audio-choice',
    description: 'MP4 with two sound tracks: stereo first, mono second (the first is kept, with a notice)',
    keptChannels: 2,
    noticeIncludes: '2 audio tracks',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=2', ...audioInput(2),
      '-f', 'lavfi', '-i', 'sine=frequency=880:sample_rate=48000:duration=2',
      '-map', '0:v', '-map', '1:a', '-map', '2:a', ...X264(0), '-c:a', 'aac', '-b:a', '96k', out,
    ]]],
  },
  'two-audio-mkv': {
    kind: 'audio-choice',
    description: 'MKV with two sound tracks, the second (mono) marked default: the default one is kept, with a notice',
    ext: 'mkv',
    keptChannels: 1,
    noticeIncludes: '2 audio tracks',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=2', ...audioInput(2),
      '-f', 'lavfi', '-i', 'sine=frequency=880:sample_rate=48000:duration=2',
      '-map', '0:v', '-map', '1:a', '-map', '2:a', ...X264(0), '-c:a', 'aac', '-b:a', '96k',
      '-disposition:a:0', '0', '-disposition:a:1', 'default', out,
    ]]],
  },
  'mkv-cut-90': {
    kind: 'partial',
    description: 'mkv-h264-aac cut at 90%: the frames before the cut are made, with a notice',
    ext: 'mkv',
    keeps: [0.8, 0.95], // the share of the whole file's frames that must come out
    noticeIncludes: 'cut short',
    deps: ['mkv-h264-aac'],
    steps: (out) => [['truncate', ['@mkv-h264-aac', out, 0.9]]],
  },
  'faststart-cut-90': {
    kind: 'partial',
    description: 'mkv-h264-aac as an MP4 with its index first (faststart), cut at 90%: the frames before the cut are made, with a notice',
    keeps: [0.8, 0.95], // the share of the whole file's frames that must come out
    noticeIncludes: 'cut short',
    deps: ['mkv-h264-aac'],
    steps: (out, tmp) => [
      ['ffmpeg', [...FF, '-i', '@mkv-h264-aac', '-c', 'copy', '-movflags', '+faststart', tmp('fs.mp4')]],
      ['truncate', [tmp('fs.mp4'), out, 0.9]],
    ],
  },

  // ---- bad inputs ----
  empty: {
    kind: 'bad',
    description: 'empty file named .mp4',
    errorCodes: ['empty_file'],
    steps: (out) => [['write', [out, 'empty']]],
  },
  'random-bytes': {
    kind: 'bad',
    description: '1 MiB of (seeded) random bytes named .mp4',
    errorCodes: ['not_a_video', 'corrupt'],
    steps: (out) => [['write', [out, 'random', 1 << 20]]],
  },
  truncated: {
    kind: 'bad',
    description: 'h264-1080p30 cut at 50% (its moov is at the end, so it is gone)',
    errorCodes: ['corrupt', 'not_a_video'],
    deps: ['h264-1080p30'],
    steps: (out) => [['truncate', ['@h264-1080p30', out, 0.5]]],
  },
  'text-file': {
    kind: 'bad',
    description: 'a text file named .mp4',
    errorCodes: ['not_a_video'],
    steps: (out) => [['write', [out, 'text']]],
  },
  'png-image': {
    kind: 'bad',
    description: 'a PNG image: the message names it',
    ext: 'png',
    errorCodes: ['not_a_video'],
    messageIncludes: 'PNG image',
    steps: (out) => [['ffmpeg', [...FF, '-f', 'lavfi', '-i', 'testsrc2=size=320x240', '-frames:v', '1', out]]],
  },
  'avi-file': {
    kind: 'bad',
    description: 'an AVI video (MPEG-4 Part 2, as old cameras write): the message names AVI and says how to convert',
    ext: 'avi',
    errorCodes: ['unsupported_container'],
    messageIncludes: 'AVI',
    steps: (out) => [['ffmpeg', [...FF, '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=1', '-c:v', 'mpeg4', out]]],
  },
  'webm-cut-header': {
    kind: 'bad',
    description: 'webm-vp9-opus cut inside its header (the first 300 bytes): nothing to make',
    ext: 'webm',
    errorCodes: ['corrupt'],
    deps: ['webm-vp9-opus'],
    steps: (out) => [['truncate', ['@webm-vp9-opus', out, 300]]],
  },
  'audio-only': {
    kind: 'bad',
    description: 'an M4A with sound and no picture',
    errorCodes: ['no_video_track'],
    steps: (out) => [['ffmpeg', [...FF, ...audioInput(2), ...AAC, '-f', 'mp4', out]]],
  },
  'pdf-file': {
    kind: 'bad',
    description: 'a small PDF document named .mp4',
    errorCodes: ['not_a_video'],
    messageIncludes: 'PDF',
    steps: (out) => [['write', [out, 'pdf']]],
  },
  'mpeg-ts': {
    kind: 'bad',
    description: 'an MPEG transport stream (as TV recorders and cameras write): named, with how to convert',
    ext: 'ts',
    errorCodes: ['unsupported_container'],
    messageIncludes: 'transport stream',
    steps: (out) => [['ffmpeg', [...FF, '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=1', ...X264(0), '-f', 'mpegts', out]]],
  },
  'flv-file': {
    kind: 'bad',
    description: 'a Flash video (FLV)',
    ext: 'flv',
    errorCodes: ['unsupported_container'],
    messageIncludes: 'FLV',
    steps: (out) => [['ffmpeg', [...FF, '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=1', ...X264(0), '-f', 'flv', out]]],
  },
  'prores-mov': {
    kind: 'bad',
    description: 'ProRes 422 in MOV (as editors export for masters): not decoded by browsers, named in the message',
    ext: 'mov',
    errorCodes: ['unsupported_codec'],
    messageIncludes: 'ProRes',
    steps: (out) => [['ffmpeg', [...FF, '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=1', '-c:v', 'prores_ks', '-profile:v', '2', out]]],
  },
  'truncated-1pct': {
    kind: 'bad',
    description: 'h264-1080p30 (index at the end) cut at 1%',
    errorCodes: ['corrupt'],
    deps: ['h264-1080p30'],
    steps: (out) => [['truncate', ['@h264-1080p30', out, 0.01]]],
  },
  'truncated-10pct': {
    kind: 'bad',
    description: 'h264-1080p30 (index at the end) cut at 10%',
    errorCodes: ['corrupt'],
    deps: ['h264-1080p30'],
    steps: (out) => [['truncate', ['@h264-1080p30', out, 0.1]]],
  },
  'truncated-90pct': {
    kind: 'bad',
    description: 'h264-1080p30 (index at the end) cut at 90%: the index is gone, so nothing can be made',
    errorCodes: ['corrupt'],
    deps: ['h264-1080p30'],
    steps: (out) => [['truncate', ['@h264-1080p30', out, 0.9]]],
  },
  'faststart-cut-1': {
    kind: 'bad',
    description: 'the faststart MP4 of mkv-h264-aac cut at 1% (inside its index)',
    errorCodes: ['corrupt'],
    deps: ['mkv-h264-aac'],
    steps: (out, tmp) => [
      ['ffmpeg', [...FF, '-i', '@mkv-h264-aac', '-c', 'copy', '-movflags', '+faststart', tmp('fs.mp4')]],
      ['truncate', [tmp('fs.mp4'), out, 0.01]],
    ],
  },
  'faststart-cut-50': {
    kind: 'partial',
    description: 'the faststart MP4 of mkv-h264-aac cut at 50%',
    keeps: [0.4, 0.6], // the share of the whole file's frames that must come out
    noticeIncludes: 'cut short',
    deps: ['mkv-h264-aac'],
    steps: (out, tmp) => [
      ['ffmpeg', [...FF, '-i', '@mkv-h264-aac', '-c', 'copy', '-movflags', '+faststart', tmp('fs.mp4')]],
      ['truncate', [tmp('fs.mp4'), out, 0.5]],
    ],
  },
  'faststart-cut-10': {
    kind: 'partial',
    description: 'the faststart MP4 of mkv-h264-aac cut at 10%: the few frames before the cut are made, with a notice',
    keeps: [0.03, 0.2], // the share of the whole file's frames that must come out
    noticeIncludes: 'cut short',
    deps: ['mkv-h264-aac'],
    steps: (out, tmp) => [
      ['ffmpeg', [...FF, '-i', '@mkv-h264-aac', '-c', 'copy', '-movflags', '+faststart', tmp('fs.mp4')]],
      ['truncate', [tmp('fs.mp4'), out, 0.1]],
    ],
  },
  'webm-cut-50': {
    kind: 'partial',
    description: 'webm-vp9-opus cut at 50%',
    ext: 'webm',
    keeps: [0.4, 0.6], // the share of the whole file's frames that must come out
    noticeIncludes: 'cut short',
    deps: ['webm-vp9-opus'],
    steps: (out) => [['truncate', ['@webm-vp9-opus', out, 0.5]]],
  },
  'damaged-moov': {
    kind: 'bad',
    description: 'mkv-h264-aac as a faststart MP4 whose sample tables (stsz) are overwritten with noise',
    errorCodes: ['corrupt'],
    deps: ['mkv-h264-aac'],
    steps: (out, tmp) => [
      ['ffmpeg', [...FF, '-i', '@mkv-h264-aac', '-c', 'copy', '-movflags', '+faststart', tmp('fs.mp4')]],
      ['damage', [tmp('fs.mp4'), out, 'stsz', 64]],
    ],
  },
  'gop15-source': {
    kind: 'source',
    description: 'H.264 + AAC, 640x360, 3 s, a keyframe every 15 frames: the undamaged twin of damaged-mdat',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=3', ...audioInput(3), '-vf', MOVING_BOX,
      ...X264(0), '-g', '15', ...AAC, out,
    ]]],
  },
  'damaged-mdat': {
    kind: 'damaged',
    description: 'gop15-source with 3 KB of noise inside its frames at 40% and 70%: decoding goes on at the next keyframe, the lost frames show the last good picture, and the report says where',
    noticeIncludes: 'could not be decoded',
    deps: ['gop15-source'],
    steps: (out) => [['damage', ['@gop15-source', out, 0.4, 3000, 0.7, 3000]]],
  },
  'no-room': {
    kind: 'bad',
    description: 'a 300 GB file (sparse, like over-4gb): its output would not fit in the browser\'s storage quota',
    errorCodes: ['storage_full'],
    deps: ['over-4gb'],
    steps: (out, tmp) => [
      ['ffmpeg', [
        ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=2', ...audioInput(2), ...X264(0), ...AAC,
        tmp('small.mp4'),
      ]],
      ['pad4g', [tmp('small.mp4'), out, 300_000_000_000]],
    ],
  },
  'unsupported-mpeg4': {
    kind: 'bad',
    description: 'MPEG-4 Part 2 video (mp4v) in MP4, which WebCodecs does not decode',
    errorCodes: ['unsupported_codec'],
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=2', ...audioInput(2),
      '-c:v', 'mpeg4', '-q:v', '5', ...AAC, out,
    ]]],
  },
  'unsupported-hevc': {
    kind: 'bad',
    description: 'HEVC (hvc1, as phones write it) in MP4: this Chromium cannot decode HEVC, the page must say so',
    errorCodes: ['unsupported_codec'],
    messageIncludes: 'HEVC',
    steps: (out) => [['ffmpeg', [
      ...FF, '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=2', ...audioInput(2),
      '-c:v', 'libx265', '-x265-params', 'log-level=error', '-tag:v', 'hvc1', '-pix_fmt', 'yuv420p', ...AAC, out,
    ]]],
  },
};

// ---- generation ----

/** Deterministic pseudo-random bytes (xorshift32), so the cached file never changes. */
function seededBytes(n, seed = 0x2545f491) {
  const buf = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

/**
 * Records `seconds` of a moving canvas with the browser's own MediaRecorder (VP8/VP9 + Opus in
 * WebM, as screen and camera recorders in browsers write it: unknown-size segment and clusters,
 * no Cues, no duration), into `dst`.
 */
async function recordWebm(dst, seconds, mimeType) {
  const { launchBrowser } = require('./lib/browser');
  const browser = await launchBrowser();
  try {
    const b64 = await browser.page.evaluate(async ({ seconds, mimeType }) => {
      const canvas = document.createElement('canvas');
      canvas.width = 640;
      canvas.height = 360;
      document.body.append(canvas);
      const g = canvas.getContext('2d');
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      const sink = audio.createMediaStreamDestination();
      tone.connect(sink);
      tone.start();
      const stream = new MediaStream([...canvas.captureStream(30).getVideoTracks(), ...sink.stream.getAudioTracks()]);
      const recorder = new MediaRecorder(stream, { mimeType, videoBitsPerSecond: 1_000_000 });
      const parts = [];
      recorder.ondataavailable = (e) => parts.push(e.data);
      const t0 = performance.now();
      const draw = () => {
        const t = (performance.now() - t0) / 1000;
        g.fillStyle = `hsl(${(t * 90) % 360}, 60%, 50%)`;
        g.fillRect(0, 0, 640, 360);
        g.fillStyle = '#fff';
        g.fillRect(40 + ((t * 200) % 480), 120, 120, 120);
        if (recorder.state === 'recording') requestAnimationFrame(draw);
      };
      recorder.start(500); // a cluster every half second, as live recorders write
      draw();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const done = new Promise((r) => (recorder.onstop = r));
      recorder.stop();
      await done;
      const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    }, { seconds, mimeType });
    fs.writeFileSync(dst, Buffer.from(b64, 'base64'));
  } finally {
    await browser.close();
  }
}

/**
 * Copies `src` to `dst` with bytes overwritten by a fixed noise pattern: either `n` bytes from
 * the start of the first box of type `what` (a four-letter string), or, with fractions, `n`
 * bytes at each fraction of the file (pairs: fraction, bytes, fraction, bytes...).
 */
function damage(src, dst, ...spec) {
  const data = fs.readFileSync(src);
  const noise = (at, n) => {
    for (let k = 0; k < n && at + k < data.length; k++) data[at + k] = (k * 37 + 11) & 0xff;
  };
  if (typeof spec[0] === 'string') {
    const at = data.indexOf(Buffer.from(spec[0], 'latin1'));
    if (at < 0) throw new Error(`damage: no ${spec[0]} box in ${src}`);
    noise(at + 8, spec[1]); // past the box type, version and flags: the table itself
  } else {
    for (let i = 0; i + 1 < spec.length; i += 2) noise(Math.floor(data.length * spec[i]), spec[i + 1]);
  }
  fs.writeFileSync(dst, data);
}

/** Sets the display rotation on a copy of `src` (no re-encode). */
async function rotate(src, dst, degrees) {
  // ffmpeg >= 6: -display_rotation D (D anticlockwise, so -90 = a quarter turn clockwise).
  // ffmpeg 5.x has no such option but writes the matrix from the `rotate` tag; there
  // rotate=270 gives the matrix [0 1; -1 0] that phones write and ffprobe reports as -90.
  // tests/tooling.test.js checks the result either way.
  const modern = await run('ffmpeg', [...FF, '-display_rotation', String(degrees), '-i', src, '-c', 'copy', dst]);
  if (modern.code === 0) return;
  const tag = ((degrees % 360) + 360) % 360; // -90 -> 270
  await run('ffmpeg', [...FF, '-i', src, '-c', 'copy', '-metadata:s:v:0', `rotate=${tag}`, dst], { check: true });
}

function recipeKey(name) {
  const spec = CLIPS[name];
  const steps = spec.steps('OUT', (n) => `TMP/${n}`);
  // Inputs from other clips are part of the key through their own keys.
  const depKeys = (spec.deps || []).map(recipeKey);
  return crypto.createHash('sha256').update(JSON.stringify({ v: 1, steps, depKeys })).digest('hex').slice(0, 10);
}

/** The cached path of a clip (it may not exist yet). */
function cachedPath(name) {
  if (!CLIPS[name]) throw new Error(`unknown clip ${name}; known: ${Object.keys(CLIPS).join(', ')}`);
  return path.join(MEDIA_DIR, `${name}-${recipeKey(name)}.${CLIPS[name].ext || 'mp4'}`);
}

/** Resolves "@clip" references to the clip's path (generating it). */
async function resolveArgs(args) {
  const out = [];
  for (const a of args) out.push(typeof a === 'string' && a.startsWith('@') && CLIPS[a.slice(1)] ? await clipPath(a.slice(1)) : a);
  return out;
}

const inFlight = new Map();

/**
 * Path of clip `name`, generated into MEDIA_DIR when not cached yet.
 * Throws when a prerequisite is missing (e.g. vtest.avi without opencv-doc); the error has
 * `.missing = true` so tests can skip.
 */
/** Bytes of sparse padding put before the mdat by `padOver4GB`: past 2^32 with margin. */
const PAD_BYTES = 4_400_000_000;

/**
 * Copies `src` (an MP4 whose boxes are ftyp, ..., mdat, moov) to `dst` with a `free` box of
 * `padBytes` before the mdat, written as a hole of a sparse file, and every chunk offset moved
 * past it (stco rewritten as co64).
 */
function padOver4GB(src, dst, padBytes = PAD_BYTES) {
  const data = fs.readFileSync(src);
  const top = [];
  for (let off = 0; off + 8 <= data.length;) {
    let len = data.readUInt32BE(off);
    if (len === 1) len = Number(data.readBigUInt64BE(off + 8));
    else if (len === 0) len = data.length - off;
    top.push({ type: data.toString('latin1', off + 4, off + 8), bytes: data.subarray(off, off + len) });
    off += len;
  }
  const containers = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl']);
  const rewrite = (box) => {
    const type = box.toString('latin1', 4, 8);
    if (type === 'stco' || type === 'co64') {
      const n = box.readUInt32BE(12);
      const outBox = Buffer.alloc(16 + 8 * n);
      outBox.writeUInt32BE(outBox.length, 0);
      outBox.write('co64', 4, 'latin1');
      outBox.writeUInt32BE(0, 8);
      outBox.writeUInt32BE(n, 12);
      for (let i = 0; i < n; i++) {
        const old = type === 'stco' ? BigInt(box.readUInt32BE(16 + 4 * i)) : box.readBigUInt64BE(16 + 8 * i);
        outBox.writeBigUInt64BE(old + BigInt(padBytes), 16 + 8 * i);
      }
      return outBox;
    }
    if (!containers.has(type)) return box;
    const parts = [];
    for (let off = 8; off + 8 <= box.length;) {
      const len = box.readUInt32BE(off);
      if (len < 8) break;
      parts.push(rewrite(box.subarray(off, off + len)));
      off += len;
    }
    const body = Buffer.concat(parts);
    const head = Buffer.alloc(8);
    head.writeUInt32BE(8 + body.length, 0);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, body]);
  };
  const fd = fs.openSync(dst, 'w');
  let pos = 0;
  const write = (buf) => {
    fs.writeSync(fd, buf, 0, buf.length, pos);
    pos += buf.length;
  };
  try {
    for (const b of top) {
      if (b.type === 'mdat') {
        const free = Buffer.alloc(16);
        free.writeUInt32BE(1, 0);
        free.write('free', 4, 'latin1');
        free.writeBigUInt64BE(BigInt(padBytes), 8);
        write(free);
        pos += padBytes - 16; // a hole: nothing written
      }
      write(b.type === 'moov' ? rewrite(b.bytes) : b.bytes);
    }
  } finally {
    fs.closeSync(fd);
  }
}

function clipPath(name) {
  if (!inFlight.has(name)) inFlight.set(name, generate(name).finally(() => inFlight.delete(name)));
  return inFlight.get(name);
}

async function generate(name) {
  const spec = CLIPS[name];
  const final = cachedPath(name);
  if (fs.existsSync(final)) return final;
  if (spec.needs && !fs.existsSync(spec.needs)) {
    const err = new Error(`${name} needs ${spec.needs} (apt-get install -y opencv-doc)`);
    err.missing = true;
    throw err;
  }
  fs.mkdirSync(MEDIA_DIR, { recursive: true });
  const work = fs.mkdtempSync(path.join(MEDIA_DIR, `.tmp-${name}-`));
  const tmp = (n) => path.join(work, n);
  const partial = tmp(`out.${spec.ext || 'mp4'}`);
  try {
    for (const [op, rawArgs] of spec.steps(partial, tmp)) {
      const args = await resolveArgs(rawArgs);
      if (op === 'ffmpeg') {
        // Generation is heavy: be nice to whatever else runs on the machine.
        await run('nice', ['-n', '10', 'ffmpeg', ...args], { check: true });
      } else if (op === 'rotate') {
        await rotate(...args);
      } else if (op === 'write') {
        const [file, what, size] = args;
        const text = 'This is a text file, not a video. Reframe must say so in plain words.\n';
        const pdf = '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n';
        const bytes = { empty: Buffer.alloc(0), text: Buffer.from(text), pdf: Buffer.from(pdf) }[what];
        fs.writeFileSync(file, bytes ?? seededBytes(size));
      } else if (op === 'damage') {
        damage(...args);
      } else if (op === 'record') {
        await recordWebm(...args);
      } else if (op === 'pad4g') {
        padOver4GB(...args);
      } else if (op === 'truncate') {
        const [src, file, fraction] = args;
        const data = fs.readFileSync(src);
        // A fraction of the file, or (above 1) a number of bytes.
        fs.writeFileSync(file, data.subarray(0, fraction > 1 ? fraction : Math.floor(data.length * fraction)));
      } else {
        throw new Error(`unknown step ${op}`);
      }
    }
    fs.renameSync(partial, final); // atomic: a cached file is always complete
    return final;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Names of the clips of one kind ('good', 'bad', 'bench'). */
const clipsOfKind = (kind) => Object.keys(CLIPS).filter((n) => CLIPS[n].kind === kind);

module.exports = { CLIPS, MEDIA_DIR, TWO_APART, clipPath, cachedPath, clipsOfKind, seededBytes };

// ---- command line ----
if (require.main === module) {
  (async () => {
    const args = process.argv.slice(2);
    if (args.includes('--list')) {
      for (const [n, c] of Object.entries(CLIPS)) console.log(`${n.padEnd(22)} ${c.kind.padEnd(5)} ${c.description}`);
      return;
    }
    const { probe } = require('./lib/probe');
    const names = args.length ? args : Object.keys(CLIPS);
    let failed = 0;
    for (const n of names) {
      const t = Date.now();
      try {
        const p = await clipPath(n);
        let info = `${fs.statSync(p).size} bytes`;
        if (CLIPS[n].kind !== 'bad') {
          const pr = await probe(p);
          const v = pr.video;
          info = `${v.codec} ${v.width}x${v.height} shown ${v.display_width}x${v.display_height} rot=${v.rotation} ` +
            `${v.nb_frames} frames ${v.duration}s${pr.audio ? ` + ${pr.audio.codec} ${pr.audio.duration}s` : ''}`;
        }
        console.log(`${n.padEnd(22)} ${((Date.now() - t) / 1000).toFixed(1).padStart(5)} s  ${info}\n${''.padEnd(31)}${p}`);
      } catch (err) {
        failed++;
        console.log(`${n.padEnd(22)} FAILED: ${err.message}`);
      }
    }
    process.exitCode = failed ? 1 : 0;
  })();
}
