// The softphone's service worker (U1): makes /phone installable, keeps its own files
// (scripts, styles, icons, JsSIP) for a quick start, and shows what Web Push brings. The page itself and the API are never
// kept: the page carries the session's CSRF token and the API personal data.

const CACHE = "vaxel-phone-2";
const TEXTS = "vaxel-phone-texts"; // the words of the notifications, from the page
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
      .then((names) => Promise.all(names.filter((n) => n !== CACHE && n !== TEXTS)
        .map((n) => caches.delete(n))))
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

// Web Push (U1, U3): the switch wakes the app for an incoming call, a missed call and new
// voicemail (web/push.py: {"kind": "call" | "missed" | "voicemail", ...}). An open page in
// front says it itself; otherwise a notification does, in the words the page last gave.
const ENGLISH = { call: "Incoming call", missed: "Missed call from {who}",
                  voicemail: "New voicemail ({count})" };

self.addEventListener("message", (event) => {
  if (event.origin && event.origin !== location.origin) return;
  const texts = event.data?.texts;
  if (!texts) return;
  event.waitUntil(caches.open(TEXTS).then((cache) =>
    cache.put("/phone/texts", new Response(JSON.stringify(texts)))));
});

async function words() {
  const saved = await (await caches.open(TEXTS)).match("/phone/texts");
  return { ...ENGLISH, ...(saved ? await saved.json() : {}) };
}

function fill(phrase, values) {
  return phrase.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

async function pushed(message) {
  const windows = await self.clients.matchAll({ type: "window" });
  const shown = windows.some((w) => w.visibilityState === "visible" && new URL(w.url).pathname === "/phone");
  if (shown) return; // the page in front shows the call, the missed call, the voicemail
  const texts = await words();
  const who = message.name ? `${message.name} (${message.from})` : String(message.from ?? "");
  const options = { icon: "/static/phone/icon.svg", tag: message.kind, data: message };
  if (message.kind === "call") {
    await self.registration.showNotification(texts.call, { ...options, body: who, requireInteraction: true });
  } else if (message.kind === "missed") {
    await self.registration.showNotification(fill(texts.missed, { who }), options);
  } else if (message.kind === "voicemail") {
    await self.registration.showNotification(fill(texts.voicemail, { count: message.new }), options);
  }
}

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    return; // not ours
  }
  event.waitUntil(pushed(message));
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
