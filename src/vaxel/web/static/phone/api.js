// The REST API and the page's words (U1, U3). The page hands its data (the user, the
// session's CSRF token, the words in the user's language) in a JSON block, never a script;
// every change sends the CSRF token, as the other pages do.

const data = JSON.parse(document.getElementById("phone-data").textContent);

export const me = Object.freeze({
  extension: data.extension,
  domain: data.domain,
  name: data.name,
  lang: data.lang,
});

/** A phrase in the page's language, with {names} filled in. */
export function t(key, fill = {}) {
  const phrase = data.texts[key] ?? key;
  return phrase.replace(/\{(\w+)\}/g, (whole, name) => (name in fill ? String(fill[name]) : whole));
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/** Calls /api/v1 + path; the answer's JSON, null for 204; ApiError with its detail. */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = data.csrf;
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch("/api/v1" + path, init);
  if (response.status === 401) {
    location.assign("/login?next=%2Fphone"); // the session ended (logged out elsewhere)
    throw new ApiError(401, "log in");
  }
  if (!response.ok) {
    let detail = response.statusText;
    try {
      detail = (await response.json()).detail || detail;
    } catch {
      // not problem+json: keep the status text
    }
    throw new ApiError(response.status, detail);
  }
  return response.status === 204 ? null : response.json();
}

/** An element with attributes and children (text is set as text, never as HTML). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** A time as the user's clock says it: "14:05", or the date too when not today. */
export function clock(value) {
  const moment = new Date(typeof value === "number" ? value * 1000 : value);
  const options = { hour: "2-digit", minute: "2-digit" };
  if (moment.toDateString() !== new Date().toDateString()) {
    Object.assign(options, { day: "numeric", month: "short" });
  }
  return moment.toLocaleString(me.lang === "sv" ? "sv-SE" : "en-GB", options);
}

/** Runs `work` once after a burst of calls settles (many events, one reload). */
export function debounce(work, ms = 150) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => work(...args), ms);
  };
}
