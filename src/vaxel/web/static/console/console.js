// The operator console (A16): the company's queued, ringing, parked and own calls, the
// actions on the chosen one (by button, key or drag and drop onto a colleague), and an
// instant search over the colleagues (fetched once, kept live by the events). Everything
// is asked of /api/v1/console (web/api/console.py); the page hands only its words and
// the CSRF token, in a JSON block (no inline script: the pages' CSP).

const data = JSON.parse(document.getElementById("console-data").textContent);
const $ = (id) => document.getElementById(id);

function t(key, fill = {}) {
  const phrase = data.texts[key] ?? key;
  return phrase.replace(/\{(\w+)\}/g, (whole, name) => (name in fill ? String(fill[name]) : whole));
}

function el(tag, attributes = {}, ...children) {
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

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = data.csrf;
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch("/api/v1/console" + path, init);
  if (response.status === 401) {
    location.assign("/login?next=%2Fconsole");
    throw new ApiError(401, "log in");
  }
  if (!response.ok) {
    let detail = response.statusText;
    try {
      detail = (await response.json()).detail || detail;
    } catch {
      // not problem+json
    }
    throw new ApiError(response.status, detail);
  }
  return response.json();
}

function debounce(work, ms = 150) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(work, ms);
  };
}

// -- the state ---------------------------------------------------------------------------

const ACTIONS = ["answer", "transfer", "consult", "complete", "back", "park", "retrieve",
  "search", "next", "previous"];
// Which actions a call in each state offers.
const OFFERS = {
  queued: ["answer"],
  ringing: ["answer"],
  parked: ["retrieve"],
  talking: ["transfer", "consult", "park"],
  consulting: ["complete", "back"],
  callback: [],
};

let settings = { operator: data.extension, shortcuts: {}, park: null, orbits: [] };
let calls = [];
let loadedAt = performance.now();
let chosen = null; // the chosen call's id
let people = [];
const lines = new Map();
const diversions = new Map();

function say(message) {
  $("message").textContent = message;
}

// -- calls -------------------------------------------------------------------------------

async function loadCalls() {
  try {
    const answer = await api("GET", "/calls");
    calls = answer.items;
    loadedAt = performance.now();
    if (!calls.some((c) => c.call_id === chosen)) {
      // A call the operator just took comes back as their own: keep it chosen.
      chosen = (calls.find((c) => c.state === "talking" || c.state === "consulting")
        ?? calls[0])?.call_id ?? null;
    }
    renderCalls();
  } catch (error) {
    say(t("console.failed", { detail: error.message }));
  }
}
const reloadCalls = debounce(loadCalls);

function waited(call) {
  return Math.floor(call.waited + (performance.now() - loadedAt) / 1000);
}

function renderCalls() {
  const list = $("calls");
  list.replaceChildren();
  for (const call of calls) {
    const li = el("li", {
      "data-call": call.call_id, "data-state": call.state, tabindex: "0", role: "option",
      draggable: call.state === "talking" ? "true" : "false",
      "aria-selected": call.call_id === chosen ? "true" : "false",
      onclick: () => choose(call.call_id),
      ondragstart: (event) => {
        choose(call.call_id);
        event.dataTransfer.setData("application/x-vaxel-call", call.call_id);
        event.dataTransfer.effectAllowed = "move";
      },
    },
    el("span", { class: "caller", text: call.caller_name ? `${call.caller_name} (${call.caller})` : call.caller }),
    el("span", { class: "where", text: t(`console.state.${call.state}`, { where: call.where }) }),
    el("span", { class: "waited", text: t("console.waited", { seconds: waited(call) }) }));
    list.append(li);
  }
  $("no-calls").hidden = calls.length > 0;
  renderActions();
}

function tick() {
  for (const li of $("calls").children) {
    const call = calls.find((c) => c.call_id === li.dataset.call);
    if (call) li.querySelector(".waited").textContent = t("console.waited", { seconds: waited(call) });
  }
}

function choose(callId) {
  chosen = callId;
  for (const li of $("calls").children) {
    li.setAttribute("aria-selected", li.dataset.call === chosen ? "true" : "false");
  }
  renderActions();
}

function current() {
  return calls.find((c) => c.call_id === chosen) ?? null;
}

function offered(action) {
  const call = current();
  if (!call || !settings.operator) return false;
  if (action === "answer" && !call.answerable) return false;
  if (action === "park" && !settings.park) return false;
  return (OFFERS[call.state] ?? []).includes(action);
}

function renderActions() {
  const bar = $("actions");
  bar.replaceChildren();
  for (const action of ACTIONS.slice(0, 7)) {
    const key = settings.shortcuts[action];
    bar.append(el("button", {
      type: "button", "data-action": action, disabled: !offered(action),
      "aria-keyshortcuts": key ? key.replace(/^Ctrl\+|\+Ctrl\+/, (m) => m.replace("Ctrl", "Control")) : null,
      onclick: () => act(action),
    }, t(`console.action.${action}`), key ? el("kbd", { text: key }) : null));
  }
}

async function act(action, target) {
  if (action === "search") {
    $("search").focus();
    return;
  }
  if (action === "next" || action === "previous") {
    if (!calls.length) return;
    const at = calls.findIndex((c) => c.call_id === chosen);
    const step = action === "next" ? 1 : -1;
    choose(calls[(at + step + calls.length) % calls.length].call_id);
    $("calls").querySelector(`[data-call="${CSS.escape(chosen)}"]`)?.focus();
    return;
  }
  const call = current();
  if (!call) {
    say(t("console.choose"));
    return;
  }
  if (!offered(action)) return;
  const id = encodeURIComponent(call.call_id);
  try {
    if (action === "transfer" || action === "consult") {
      const to = (target ?? $("target").value).trim();
      if (!to) {
        $("target").focus();
        return;
      }
      await api("POST", `/calls/${id}/${action}`, { to });
    } else if (action === "retrieve") {
      await api("POST", `/orbits/${encodeURIComponent(call.where)}/retrieve`);
    } else {
      await api("POST", `/calls/${id}/${action}`);
    }
    say("");
  } catch (error) {
    say(t("console.failed", { detail: error.message }));
  }
  reloadCalls();
}

// -- keyboard shortcuts ------------------------------------------------------------------

function keyName(event) {
  let key = event.key.length === 1 ? event.key.toUpperCase() : event.key;
  if (["Control", "Alt", "Shift", "Meta"].includes(key)) return null;
  const parts = [];
  if (event.ctrlKey) parts.push("Ctrl");
  if (event.altKey) parts.push("Alt");
  if (event.shiftKey) parts.push("Shift");
  if (event.metaKey) parts.push("Meta");
  return [...parts, key].join("+");
}

document.addEventListener("keydown", (event) => {
  const name = keyName(event);
  if (!name) return;
  const action = Object.keys(settings.shortcuts).find((a) => settings.shortcuts[a] === name);
  if (!action) return;
  const typing = event.target.matches?.("input, textarea");
  const plain = name.length === 1 && !event.ctrlKey && !event.altKey && !event.metaKey;
  if (typing && (plain || name === "ArrowUp" || name === "ArrowDown")) return;
  event.preventDefault();
  act(action);
});

function renderLegend() {
  const legend = $("legend");
  legend.replaceChildren();
  for (const action of ACTIONS) {
    const key = settings.shortcuts[action];
    if (!key) continue;
    legend.append(el("dt", {}, el("kbd", { text: key })),
      el("dd", { text: t(`console.action.${action}`) }));
  }
}

// -- colleagues --------------------------------------------------------------------------

async function loadColleagues() {
  try {
    const answer = await api("GET", "/colleagues");
    people = answer.items;
    lines.clear();
    diversions.clear();
    for (const person of people) {
      lines.set(person.ext, person.line);
      if (person.diversion) diversions.set(person.ext, person.diversion);
    }
    renderColleagues();
  } catch (error) {
    say(t("console.failed", { detail: error.message }));
  }
}

function clock(value) {
  const moment = new Date(value);
  const options = { hour: "2-digit", minute: "2-digit" };
  if (moment.toDateString() !== new Date().toDateString()) {
    Object.assign(options, { day: "numeric", month: "short" });
  }
  return moment.toLocaleString(data.lang === "sv" ? "sv-SE" : "en-GB", options);
}

function diversionWords(d) {
  const status = d.status === "custom" ? d.text : t(`status.${d.status}`);
  if (!d.until) return t("console.diverted_open", { status });
  return t("console.diverted", { status, until: clock(d.until) });
}

function renderColleagues() {
  const list = $("colleagues");
  list.replaceChildren();
  for (const person of people) {
    const links = el("span", { class: "links" },
      el("a", { href: `/phone#chat=${person.ext}`, target: "_blank", rel: "noopener",
        text: t("console.chat") }),
      person.email ? el("a", { href: `mailto:${person.email}`, text: t("console.email") }) : null,
      person.mobile ? el("a", { href: `sms:${person.mobile}`, text: t("console.sms") }) : null);
    const li = el("li", { "data-ext": person.ext },
      el("span", { class: "name", text: person.name }), " ",
      el("span", { class: "ext", text: person.ext }), " ",
      el("span", { class: "line" }), " ",
      el("span", { class: "diverted" }), " ",
      el("button", { type: "button", class: "secondary", text: t("console.action.transfer"),
        onclick: () => act("transfer", person.ext) }),
      links);
    li.addEventListener("dragover", (event) => {
      if (!event.dataTransfer.types.includes("application/x-vaxel-call")) return;
      event.preventDefault();
      li.dataset.drop = "over";
    });
    li.addEventListener("dragleave", () => delete li.dataset.drop);
    li.addEventListener("drop", (event) => {
      event.preventDefault();
      delete li.dataset.drop;
      chosen = event.dataTransfer.getData("application/x-vaxel-call") || chosen;
      act(event.shiftKey ? "consult" : "transfer", person.ext);
    });
    fill(li, person.ext);
    list.append(li);
  }
  filter();
}

function fill(li, ext) {
  const state = lines.get(ext) ?? "idle";
  const line = li.querySelector(".line");
  line.dataset.state = state;
  line.textContent = t(`phone.line.${state}`);
  const diversion = diversions.get(ext);
  li.querySelector(".diverted").textContent = diversion ? diversionWords(diversion) : "";
}

function update(ext) {
  const li = $("colleagues").querySelector(`[data-ext="${CSS.escape(ext)}"]`);
  if (li) fill(li, ext);
}

function filter() {
  const q = $("search").value.trim().toLowerCase();
  let shown = 0;
  for (const li of $("colleagues").children) {
    const person = people.find((p) => p.ext === li.dataset.ext);
    const match = !q || person.name.toLowerCase().includes(q) || person.ext.startsWith(q);
    li.hidden = !match;
    if (match) shown += 1;
  }
  $("no-match").hidden = shown > 0;
}

$("search").addEventListener("input", filter);
$("search").addEventListener("keydown", (event) => {
  if (event.key !== "Enter") return;
  const first = [...$("colleagues").children].find((li) => !li.hidden);
  if (first && current()?.state === "talking") act("transfer", first.dataset.ext);
});
$("target-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act("transfer");
});

// -- the live events ---------------------------------------------------------------------

const CALL_EVENTS = ["call.offered", "call.ringing", "call.answered", "call.ended",
  "queue.joined", "queue.left"];
let pause = 1000;

function listen() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(scheme + location.host + "/api/v1/events");
  socket.addEventListener("open", () => {
    pause = 1000;
    $("state").textContent = t("console.live");
    loadCalls(); // nothing is replayed after a reconnect: read again
    loadColleagues();
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (CALL_EVENTS.includes(message.type)) reloadCalls();
    else if (message.type === "line.state") {
      lines.set(message.extension, message.state);
      update(message.extension);
      reloadCalls(); // (a park orbit's line, a held call)
    } else if (message.type === "diversion.set") {
      diversions.set(message.extension, message);
      update(message.extension);
    } else if (message.type === "diversion.cleared") {
      diversions.delete(message.extension);
      update(message.extension);
    }
  });
  socket.addEventListener("close", () => {
    $("state").textContent = t("console.lost");
    setTimeout(listen, pause);
    pause = Math.min(pause * 2, 30000);
  });
}

async function start() {
  try {
    settings = await api("GET", "");
  } catch (error) {
    say(t("console.failed", { detail: error.message }));
  }
  $("look-only").hidden = Boolean(settings.operator);
  renderLegend();
  renderActions();
  listen();
  setInterval(tick, 1000);
}

start();
