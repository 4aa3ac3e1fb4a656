'use strict';
// Peak memory of a process tree, sampled from /proc (Linux only).
//
// Every `intervalMs` it finds the root process and all its descendants, reads VmRSS from
// /proc/<pid>/status, and keeps the peak of the sum (peakTotalKb) and the peak of the largest
// single process (peakSingleKb, with that process's --type= for information).
// RSS counts shared pages (libraries, shared memory) once per process, so the sum is an upper
// bound of what the tree really uses; the sum of RssAnon (peakAnonKb) is a closer estimate of
// the memory the work itself takes. (PSS from smaps_rollup would be exact but costs ~8 ms per
// process per sample, too much every 250 ms on a 2-core machine.)

const fs = require('node:fs');

/** Reads the parent pid of every process: Map<pid, ppid>. */
function readParents() {
  const parents = new Map();
  let names;
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return parents; // not Linux
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Format: pid (comm) state ppid ...; comm may contain spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parents.set(Number(name), Number(rest[1]));
  }
  return parents;
}

/** The command line of a process as one string ('' when it is gone). */
function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/**
 * Memory of a process in kB from /proc/<pid>/status: { rss: VmRSS, anon: RssAnon }
 * (zeros when it is gone or is a kernel thread). RssAnon leaves out the mapped binary and
 * libraries, which every Chromium process shares.
 */
function memKb(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    const anon = /^RssAnon:\s+(\d+)\s+kB/m.exec(status);
    return { rss: rss ? Number(rss[1]) : 0, anon: anon ? Number(anon[1]) : 0 };
  } catch {
    return { rss: 0, anon: 0 };
  }
}

/** VmRSS of a process in kB. */
function rssKb(pid) {
  return memKb(pid).rss;
}

/** pid and all its descendants, given Map<pid, ppid>. */
function descendants(root, parents) {
  const children = new Map();
  for (const [pid, ppid] of parents) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    out.push(pid);
    for (const c of children.get(pid) || []) stack.push(c);
  }
  return out;
}

/**
 * Finds the root of a browser started with `--user-data-dir=<dir>`: the process whose command
 * line contains that flag and whose parent's does not. Returns null when not found.
 */
function findByUserDataDir(dir) {
  const parents = readParents();
  const needle = `--user-data-dir=${dir}`;
  const matching = new Set();
  for (const pid of parents.keys()) {
    if (cmdline(pid).includes(needle)) matching.add(pid);
  }
  for (const pid of matching) {
    if (!matching.has(parents.get(pid))) return pid;
  }
  return null;
}

class RssSampler {
  /**
   * options: { rootPid } or { findRoot: () => pid|null } (called until it returns a pid),
   *          intervalMs (default 250)
   */
  constructor({ rootPid = null, findRoot = null, intervalMs = 250 } = {}) {
    this.rootPid = rootPid;
    this.findRoot = findRoot;
    this.intervalMs = intervalMs;
    this.peakTotalKb = 0;
    this.peakSingleKb = 0;
    this.peakAnonKb = 0;
    this.peakSingleType = null;
    this.samples = 0;
    this.lastPids = [];
    this.timer = null;
  }

  /** Takes one sample now. Returns { totalKb, singleKb } (zeros when the root is unknown). */
  sample() {
    if (this.rootPid === null && this.findRoot) this.rootPid = this.findRoot();
    if (this.rootPid === null) return { totalKb: 0, singleKb: 0, anonKb: 0 };
    const pids = descendants(this.rootPid, readParents());
    let total = 0;
    let anon = 0;
    let single = 0;
    let singlePid = null;
    const byType = {};
    for (const pid of pids) {
      const m = memKb(pid);
      const kb = m.rss;
      total += kb;
      anon += m.anon;
      const type = (/--type=(\S+)/.exec(cmdline(pid)) || [null, 'browser'])[1];
      byType[type] = (byType[type] || 0) + kb;
      if (kb > single) {
        single = kb;
        singlePid = pid;
      }
    }
    this.samples++;
    this.lastPids = pids;
    this.peakByTypeKb = this.peakByTypeKb || {};
    for (const [type, kb] of Object.entries(byType)) this.peakByTypeKb[type] = Math.max(this.peakByTypeKb[type] || 0, kb);
    if (total > this.peakTotalKb) this.peakTotalKb = total;
    if (anon > this.peakAnonKb) this.peakAnonKb = anon;
    if (single > this.peakSingleKb) {
      this.peakSingleKb = single;
      const m = /--type=(\S+)/.exec(cmdline(singlePid));
      this.peakSingleType = m ? m[1] : 'browser';
    }
    return { totalKb: total, singleKb: single, anonKb: anon };
  }

  start() {
    if (this.timer) return this;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref(); // never keep the process alive just for sampling
    return this;
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.result();
  }

  /** Peaks in MB (1 MB = 1024 kB), rounded to 0.1. */
  result() {
    const mb = (kb) => Math.round((kb / 1024) * 10) / 10;
    return {
      peak_rss_mb: mb(this.peakTotalKb),
      peak_renderer_rss_mb: mb(this.peakSingleKb),
      peak_anon_mb: mb(this.peakAnonKb),
      peak_largest_process_type: this.peakSingleType,
      // Each process type's own peak (summed over its processes), e.g. renderer, gpu-process.
      peak_by_type_mb: Object.fromEntries(Object.entries(this.peakByTypeKb || {}).map(([t, kb]) => [t, mb(kb)])),
      rss_samples: this.samples,
    };
  }
}

module.exports = { RssSampler, findByUserDataDir, descendants, readParents, rssKb, memKb };
