// gpu-mlp's page offline: the page and its wasm are cached when the service worker installs, and
// every answer the page gets (datasets included) is kept as it arrives. Network first, so a
// rebuilt page is seen at once; the cache when the network is gone.
const CACHE = "gpu-mlp-page";
const SHELL = ["./", "./index.html", "./pkg/gpu_mlp_web.js", "./pkg/gpu_mlp_web_bg.wasm"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      // The page's link carries its settings: any query is the same page.
      .catch(() => caches.match(request, { ignoreSearch: true }).then((cached) => cached || Response.error()))
  );
});
