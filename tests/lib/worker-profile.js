'use strict';
// CPU profile of the page's Web Worker (where the pipeline runs), through the Chrome DevTools
// Protocol: `tests/process-headless --cpu-profile FILE`. The file opens in Chrome DevTools
// (Performance panel) or speedscope. Playwright gives no CDP session for workers, so this attaches
// to them from the page's session (non-flattened) and talks to them with Target.sendMessageToTarget.

/** Starts profiling every worker the page starts from now on. Call before the page loads. */
async function profileWorkers(page, { intervalUs = 500 } = {}) {
  const cdp = await page.context().newCDPSession(page);
  let seq = 0;
  const pending = new Map();
  const workers = [];
  const send = (sessionId, method, params = {}) => new Promise((resolve) => {
    const id = ++seq;
    pending.set(id, resolve);
    cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(() => {
      pending.delete(id);
      resolve(null);
    });
  });
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    if (m.id && pending.has(m.id)) {
      pending.get(m.id)(m);
      pending.delete(m.id);
    }
  });
  cdp.on('Target.attachedToTarget', async (e) => {
    if (e.targetInfo.type !== 'worker') return;
    workers.push({ sessionId: e.sessionId, url: e.targetInfo.url });
    await send(e.sessionId, 'Profiler.enable');
    await send(e.sessionId, 'Profiler.setSamplingInterval', { interval: intervalUs });
    await send(e.sessionId, 'Profiler.start');
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  return {
    /** Stops profiling; resolves with the last worker's profile (null if none could be read). */
    async stop() {
      const w = workers[workers.length - 1];
      if (!w) return null;
      const r = await Promise.race([send(w.sessionId, 'Profiler.stop'), new Promise((res) => setTimeout(() => res(null), 10000))]);
      return r && r.result ? r.result.profile : null;
    },
  };
}

/** The functions with the most self time: [{ name, url, ms, share }]. */
function topSelfTime(profile, n = 15) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const total = profile.timeDeltas.reduce((a, b) => a + b, 0) || 1;
  const self = new Map();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}`;
    self.set(key, (self.get(key) || 0) + profile.timeDeltas[i]);
  });
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, share: us / total }));
}

module.exports = { profileWorkers, topSelfTime };
