// ProbSeg's service worker: makes the page work offline once it has loaded.
//
// Network first, cache as the fallback: online, every request goes to the server as usual
// (no stale builds or weights), and each same-origin GET answer is kept; offline, the kept
// answers are served. Only this origin is ever contacted (the page's CSP forbids others), and
// nothing the person opens is cached: dropped files never become requests.
// v2: v1 kept every deploy's wasm (~18 MB each) under one name; activating v2 deletes it.
const CACHE = "probseg-v2";

// Trunk names a build's wasm and JS after their content (`probseg-web-<hash>_bg.wasm`, a 64-bit
// hash in hex without leading zeros: 16 digits, 15 one time in 16), so each deploy brings new
// URLs. Keeping a build's file drops the same file of other builds: the
// cache holds one build, whatever number of deploys it has seen.
// 12 digits at least: shorter hex parts are names, not hashes (`case-0000.json`).
const HASHED = /^(.*)-[0-9a-f]{12,16}((?:_bg)?\.[a-z]+)$/;

/** "probseg-web_bg.wasm" for any build's `probseg-web-<hash>_bg.wasm`; null for other files. */
function buildSlot(url) {
  const match = new URL(url).pathname.match(HASHED);
  return match ? match[1] + match[2] : null;
}

async function keep(cache, request, response) {
  const slot = buildSlot(request.url);
  if (slot) {
    const stale = (await cache.keys()).filter((old) => old.url !== request.url && buildSlot(old.url) === slot);
    await Promise.all(stale.map((old) => cache.delete(old)));
  }
  await cache.put(request, response);
}

async function fetchAndKeep(cache, url) {
  const response = await fetch(url);
  if (response.ok) await keep(cache, new Request(url), response);
}

self.addEventListener("install", (event) => {
  event.waitUntil(self.skipWaiting());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      // Old versions of this worker's cache only: the page keeps fine-tuned weights in its own.
      .then((names) =>
        Promise.all(
          names.filter((name) => name.startsWith("probseg-v") && name !== CACHE).map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

// The page sends the files it fetched before this worker controlled it.
self.addEventListener("message", (event) => {
  const urls = (event.data?.cache ?? []).filter((url) => new URL(url).origin === self.location.origin);
  // One by one: a file that fails to arrive must not keep the others out.
  event.waitUntil(
    caches.open(CACHE).then((cache) => Promise.all(urls.map((url) => fetchAndKeep(cache, url).catch(() => {})))),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => keep(cache, request, copy)));
        }
        return response;
      })
      .catch(() =>
        caches.match(request, { ignoreSearch: request.mode === "navigate" }).then(
          (cached) => cached ?? Response.error(),
        ),
      ),
  );
});
