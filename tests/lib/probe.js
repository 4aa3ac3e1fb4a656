'use strict';
// ffprobe/ffmpeg helpers used to describe inputs and check outputs.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { run } = require('./proc');

async function ffprobeJson(file, args) {
  const r = await run('ffprobe', ['-v', 'error', '-of', 'json', ...args, file], { check: true });
  return JSON.parse(r.stdout);
}

/** Rotation in degrees from ffprobe's display matrix side data (0 when none). */
function rotationOf(stream) {
  for (const sd of stream.side_data_list || []) {
    if (sd.rotation !== undefined) return Number(sd.rotation);
  }
  if (stream.tags && stream.tags.rotate !== undefined) return -Number(stream.tags.rotate); // old ffmpeg
  return 0;
}

const num = (v) => (v === undefined || v === null || v === 'N/A' ? null : Number(v));
const rate = (r) => {
  if (!r || r === '0/0') return null;
  const [a, b] = r.split('/').map(Number);
  return b ? a / b : a;
};

/**
 * Describes a file: { format_name, duration, size, video, audio } where video/audio are the
 * first stream of that kind (null when absent). video.display_width/height apply the rotation.
 */
async function probe(file) {
  const j = await ffprobeJson(file, ['-show_format', '-show_streams']);
  const v = j.streams.find((s) => s.codec_type === 'video');
  const a = j.streams.find((s) => s.codec_type === 'audio');
  const out = {
    format_name: j.format.format_name,
    duration: num(j.format.duration),
    size: num(j.format.size),
    streams: j.streams.length,
    video: null,
    audio: null,
  };
  if (v) {
    const rotation = rotationOf(v);
    const quarter = Math.abs(rotation) % 180 === 90;
    out.video = {
      codec: v.codec_name,
      codec_tag: v.codec_tag_string,
      profile: v.profile,
      pix_fmt: v.pix_fmt,
      width: v.width,
      height: v.height,
      rotation,
      display_width: quarter ? v.height : v.width,
      display_height: quarter ? v.width : v.height,
      has_b_frames: v.has_b_frames,
      nb_frames: num(v.nb_frames),
      duration: num(v.duration),
      start_time: num(v.start_time),
      r_frame_rate: rate(v.r_frame_rate),
      avg_frame_rate: rate(v.avg_frame_rate),
      time_base: v.time_base,
    };
  }
  if (a) {
    out.audio = {
      codec: a.codec_name,
      profile: a.profile,
      sample_rate: num(a.sample_rate),
      channels: a.channels,
      nb_frames: num(a.nb_frames),
      duration: num(a.duration),
      start_time: num(a.start_time),
    };
  }
  return out;
}

/** Number of decodable video frames (decodes the whole stream: ffprobe -count_frames). */
async function countFrames(file) {
  const j = await ffprobeJson(file, ['-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames']);
  return Number(j.streams[0].nb_read_frames);
}

/**
 * Presentation times of the packets of one stream ('v:0' or 'a:0'), sorted:
 * [{ pts, dur }] in seconds (dur may be null for the last packet).
 */
async function packetTimes(file, stream = 'v:0') {
  const j = await ffprobeJson(file, ['-select_streams', stream, '-show_entries', 'packet=pts_time,duration_time']);
  return j.packets
    .map((p) => ({ pts: num(p.pts_time), dur: num(p.duration_time) }))
    .filter((p) => p.pts !== null)
    .sort((x, y) => x.pts - y.pts);
}

/**
 * Timing of a stream from its packets: { first, end, duration, frames, maxFrame, distinctDurations }.
 * A missing duration on a packet is taken from the packet before it.
 */
async function streamTiming(file, stream = 'v:0') {
  const pk = await packetTimes(file, stream);
  if (!pk.length) return null;
  let end = -Infinity;
  let maxFrame = 0;
  const distinct = new Set();
  for (let i = 0; i < pk.length; i++) {
    let d = pk[i].dur;
    if (d === null || d === 0) d = i + 1 < pk.length ? pk[i + 1].pts - pk[i].pts : i > 0 ? pk[i].pts - pk[i - 1].pts : 0;
    maxFrame = Math.max(maxFrame, d);
    distinct.add(Math.round(d * 1e5) / 1e5);
    end = Math.max(end, pk[i].pts + d);
  }
  return { first: pk[0].pts, end, duration: end - pk[0].pts, frames: pk.length, maxFrame, distinctDurations: [...distinct].sort() };
}

// ---- MP4 box listing (only what the checks need: which boxes exist in each track) ----

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts', 'dinf', 'udta', 'mvex']);

function readAt(fd, offset, length) {
  const buf = Buffer.alloc(length);
  const n = fs.readSync(fd, buf, 0, length, offset);
  return buf.subarray(0, n);
}

/**
 * Lists the top-level boxes and, inside moov, the box types of each track:
 * { top: ['ftyp','moov','mdat'], tracks: [{ handler: 'vide', boxes: Set }] , moovBeforeMdat }
 */
function mp4Boxes(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const top = [];
    let moov = null;
    let off = 0;
    while (off + 8 <= size) {
      const h = readAt(fd, off, 16);
      let len = h.readUInt32BE(0);
      const type = h.toString('latin1', 4, 8);
      let hdr = 8;
      if (len === 1) {
        len = Number(h.readBigUInt64BE(8));
        hdr = 16;
      } else if (len === 0) {
        len = size - off;
      }
      if (len < hdr) break;
      top.push(type);
      if (type === 'moov') moov = readAt(fd, off + hdr, Math.min(len - hdr, size - off - hdr));
      off += len;
    }
    const tracks = [];
    if (moov) {
      const walk = (buf, into) => {
        let p = 0;
        while (p + 8 <= buf.length) {
          const len = buf.readUInt32BE(p);
          const type = buf.toString('latin1', p + 4, p + 8);
          if (len < 8) break;
          const body = buf.subarray(p + 8, p + len);
          if (type === 'trak') {
            const t = { handler: null, boxes: new Set() };
            tracks.push(t);
            walk(body, t);
          } else if (into) {
            into.boxes.add(type);
            if (type === 'hdlr' && body.length >= 12) into.handler = body.toString('latin1', 8, 12);
            if (CONTAINERS.has(type)) walk(body, into);
          } else if (CONTAINERS.has(type)) {
            walk(body, into);
          }
          p += len;
        }
      };
      walk(moov, null);
    }
    return { top, tracks, moovBeforeMdat: top.indexOf('moov') >= 0 && top.indexOf('moov') < top.indexOf('mdat') };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * PSNR of frames of `outFile` against ffmpeg's own crop of `inFile`.
 * groups: [{ rect: {x,y,width,height}, frames: [index,...], part }] (frame indices in presentation
 * order; ffmpeg applies the input's rotation first, so rects are in display orientation); `part`,
 * when given, is the rectangle of the output frames compared (a half of a split screen).
 * Resolves with [{ frame, psnr_y, psnr_avg }] (Infinity for identical frames).
 */
async function cropPsnr(inFile, outFile, groups) {
  const results = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reframe-psnr-'));
  try {
    for (const [gi, g] of groups.entries()) {
      const sel = g.frames.map((n) => `eq(n\\,${n})`).join('+');
      const stats = path.join(dir, `stats${gi}.log`);
      const { x, y, width, height } = g.rect;
      const part = g.part ? `,crop=${g.part.width}:${g.part.height}:${g.part.x}:${g.part.y}:exact=1` : '';
      const graph =
        `[0:v]select='${sel}'${part},setpts=N/TB,format=yuv420p[o];` +
        `[1:v]select='${sel}',crop=${width}:${height}:${x}:${y}:exact=1,setpts=N/TB,format=yuv420p[r];` +
        `[o][r]psnr=stats_file=${stats}`;
      await run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-i', outFile, '-i', inFile, '-filter_complex', graph, '-an', '-f', 'null', '-'], { check: true });
      const lines = fs.readFileSync(stats, 'utf8').trim().split('\n').filter(Boolean);
      lines.forEach((line, i) => {
        const f = Object.fromEntries(line.trim().split(/\s+/).map((kv) => kv.split(':')));
        const val = (s) => (s === 'inf' ? Infinity : Number(s));
        results.push({ frame: g.frames[i], psnr_y: val(f.psnr_y), psnr_avg: val(f.psnr_avg) });
      });
      if (lines.length !== g.frames.length) {
        throw new Error(`psnr compared ${lines.length} frames, expected ${g.frames.length} (frames ${g.frames.join(',')})`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

module.exports = { probe, countFrames, packetTimes, streamTiming, mp4Boxes, cropPsnr, rotationOf };
