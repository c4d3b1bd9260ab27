// ProbSeg's service worker: makes the page work offline once it has loaded.
//
// Network first, cache as the fallback: online, every request goes to the server as usual
// (no stale builds or weights), and each same-origin GET answer is kept; offline, the kept
// answers are served. Only this origin is ever contacted (the page's CSP forbids others), and
// nothing the person opens is cached: dropped files never become requests.
const CACHE = "probseg-v1";

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
    caches.open(CACHE).then((cache) => Promise.all(urls.map((url) => cache.add(url).catch(() => {})))),
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
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
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
