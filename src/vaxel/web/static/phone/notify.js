// Web Notifications (U3): incoming and missed calls, new voicemail, chat messages, shown
// only once the user allowed them with the button (never asked on load), and only while
// the page is not what they look at. No Web Push: nothing reaches a closed page.

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
