// Notifications (U1, U3): incoming and missed calls, new voicemail, chat messages, shown
// only once the user allowed them with the button (never asked on load). While the page is
// open but not in front it shows them itself; Web Push (the switch's /api/v1/me/push)
// wakes the service worker for calls and voicemail when no page is open, if the browser's
// push service can be reached.

import { api } from "./api.js";

const SUBSCRIBE_WAIT_MS = 15000; // a push service that does not answer: give up, say so

export function supported() {
  return "Notification" in window;
}

export function permission() {
  return supported() ? Notification.permission : "unsupported";
}

export async function ask() {
  return supported() ? Notification.requestPermission() : "unsupported";
}

export async function notify(title, body, tag) {
  if (permission() !== "granted" || document.visibilityState === "visible") return;
  const options = { body, tag, icon: "/static/phone/icon.svg" };
  const registration = await navigator.serviceWorker?.getRegistration("/phone");
  if (registration) {
    registration.showNotification(title, options); // the only way on Android
  } else {
    new Notification(title, options);
  }
}

/** The VAPID key from base64url to the bytes pushManager.subscribe wants. */
function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const text = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function within(promise, ms) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error("no answer")), ms)),
  ]);
}

/** Subscribes this browser to Web Push and gives the subscription to the switch; resolves
 * "push" when done, or the reason it could not (the page's own notifications still work). */
export async function subscribe() {
  const registration = await navigator.serviceWorker?.getRegistration("/phone");
  if (!registration?.pushManager) return "no push in this browser";
  try {
    const { public_key: key } = await api("GET", "/me/push");
    let subscription = await registration.pushManager.getSubscription();
    if (!subscription) {
      subscription = await within(
        registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }),
        SUBSCRIBE_WAIT_MS,
      );
    }
    await api("POST", "/me/push/subscriptions", subscription.toJSON());
    return "push";
  } catch (error) {
    return error.message || String(error);
  }
}

/** Gives the service worker the words of its notifications, in the page's language. */
export async function teachWorker(texts) {
  const registration = await navigator.serviceWorker?.getRegistration("/phone");
  const worker = registration?.active ?? registration?.waiting ?? registration?.installing;
  worker?.postMessage({ texts });
}
