// The softphone's service worker (U1): makes /phone installable and keeps its own files
// (scripts, styles, icons, JsSIP) for a quick start. The page itself and the API are never
// kept: the page carries the session's CSRF token and the API personal data.

const CACHE = "vaxel-phone-1";
const FILES = [
  "/static/phone/phone.css",
  "/static/phone/phone.js",
  "/static/phone/api.js",
  "/static/phone/events.js",
  "/static/phone/sip.js",
  "/static/phone/calls.js",
  "/static/phone/colleagues.js",
  "/static/phone/chat.js",
  "/static/phone/lists.js",
  "/static/phone/status.js",
  "/static/phone/notify.js",
  "/static/phone/icon.svg",
  "/static/vendor/jssip/jssip.min.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// The app's own files: the network first (an update shows at once), the copy when offline.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || !FILES.includes(url.pathname)) {
    return; // everything else goes to the network as if there were no worker
  }
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        return response;
      })
      .catch(() => caches.match(event.request)),
  );
});

// A notification pressed: back to the phone.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window" }).then((windows) => {
      const open = windows.find((w) => new URL(w.url).pathname === "/phone");
      return open ? open.focus() : self.clients.openWindow("/phone");
    }),
  );
});
