{% autoescape off %}/* 集市 service worker: shell assets cache-first, pages network-first with an offline copy. */
const VERSION = "{{ version }}";
const SHELL_CACHE = "jishi-shell-" + VERSION;
const PAGE_CACHE = "jishi-pages-" + VERSION;
const SHELL = {{ shell }};
const UNCACHED = {{ uncached }};
const OFFLINE_HTML = "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width,initial-scale=1'><title>{{ offline_title|escapejs }}</title><body style='font-family:sans-serif;text-align:center;padding:4em 1em;color:#666'><h1 style='color:#ff4d2d'>{{ offline_title|escapejs }}</h1><p>{{ offline_text|escapejs }}</p></body>";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("jishi-") && k !== SHELL_CACHE && k !== PAGE_CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function cacheable(url) {
  return url.origin === self.location.origin && !UNCACHED.some((prefix) => url.pathname.startsWith(prefix));
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).then((response) => {
        if (response.ok && cacheable(url)) {
          const copy = response.clone();
          caches.open(PAGE_CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      }).catch(() => caches.match(request).then((hit) => hit || new Response(OFFLINE_HTML, {
        status: 503, headers: {"Content-Type": "text/html; charset=utf-8"},
      })))
    );
    return;
  }

  if (SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});
{% endautoescape %}
