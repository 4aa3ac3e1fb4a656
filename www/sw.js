// Reframe's service worker: keeps this version of the app in the browser, so the page opens and
// runs without a network after the first visit. JavaScript because a service worker must start
// from a script; it only caches files.
//
// - One cache per version ('reframe-app-' + version), holding only files whose sha256 is this
//   version's: a page never mixes one release's JavaScript with another's wasm, even while the
//   server already has the next release.
// - The shell is kept at install; the detector worker when auto mode first fetches it (a
//   fixed-crop user never downloads it); the detector's weights are kept by the pipeline worker
//   in a cache of their own, by checksum.
// - A new version waits until no page of the old one is open (or the page's "Use it now"),
//   then deletes the old caches.
//
// `reframe-host offline DIR` (host/src/offline.rs) writes the BUILD line at build time.
const BUILD = {"version":"dev","shell":{},"lazy":{}};

const PREFIX = 'reframe-app-';
const CACHE = PREFIX + BUILD.version;
const SCOPE = new URL(self.registration.scope);

const urlOf = (path) => new URL(path, SCOPE).href;

async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Fetches a file of this version into the cache (revalidated: a 304 costs nothing); refuses the
// bytes of any other version.
async function keep(cache, path, sha, fetched) {
  const response = fetched || (await fetch(urlOf(path), { cache: 'no-cache' }));
  if (!response.ok) throw new Error(`${path}: the server answered HTTP ${response.status}`);
  const body = await response.arrayBuffer();
  if ((await sha256(body)) !== sha) throw new Error(`${path}: not the file of version ${BUILD.version}`);
  // The body is decoded already: its encoding and length headers would now be wrong.
  const headers = new Headers(response.headers);
  headers.delete('content-encoding');
  headers.delete('content-length');
  const kept = new Response(body, { status: 200, statusText: 'OK', headers });
  await cache.put(urlOf(path), kept.clone());
  return kept;
}

// Whether an older version kept the detector (auto mode was used): then this one keeps it at
// install, so auto mode still works offline after an update.
async function detectorWasKept() {
  for (const name of await caches.keys()) {
    if (!name.startsWith(PREFIX) || name === CACHE) continue;
    const old = await caches.open(name);
    for (const path of Object.keys(BUILD.lazy)) if (await old.match(urlOf(path))) return true;
  }
  return false;
}

self.addEventListener('install', (event) => event.waitUntil((async () => {
  const cache = await caches.open(CACHE);
  const files = Object.entries(BUILD.shell);
  if (await detectorWasKept()) files.push(...Object.entries(BUILD.lazy));
  await Promise.all(files.map(async ([path, sha]) => (await cache.match(urlOf(path))) || keep(cache, path, sha)));
})()));

self.addEventListener('activate', (event) => event.waitUntil((async () => {
  for (const name of await caches.keys()) {
    if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
  }
  // Pages (and their workers) opened before this worker was ready use it from now on, so the
  // detector fetched by a first visit's auto job is kept too.
  await self.clients.claim();
})()));

// The page's "Use it now" for a waiting new version.
self.addEventListener('message', (event) => {
  if (event.data === 'use-new-version') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== SCOPE.origin || !url.pathname.startsWith(SCOPE.pathname)) return;
  let path = url.pathname.slice(SCOPE.pathname.length);
  if (request.mode === 'navigate' && path === '') path = 'index.html';
  const sha = BUILD.shell[path] || BUILD.lazy[path];
  if (!sha) return; // not part of the app (the models, anything else): the network as usual
  event.respondWith(answer(path, sha, request));
});

async function answer(path, sha, request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(urlOf(path));
  if (kept) return kept;
  let response;
  try {
    response = await fetch(urlOf(path), { cache: 'no-cache' });
  } catch (e) {
    return Response.error(); // offline: as if there were no service worker
  }
  try {
    return await keep(cache, path, sha, response);
  } catch (e) {
    // The server has moved on to another version. The page itself comes from the network then
    // (a new page brings its own files); any other file must not be mixed in.
    if (request.mode === 'navigate') return fetch(request);
    return new Response(`Reframe was updated while this page was open (${e.message}). Reload the page.`,
      { status: 503, statusText: 'Reload the page', headers: { 'content-type': 'text/plain' } });
  }
}
