// The wallboard (A11): figures pushed over /wallboard/live, waits counted up in between.
// The token comes from the address's fragment (never sent to a server by the browser)
// and goes to the server as the socket's first message only.

const data = JSON.parse(document.getElementById("wallboard-data").textContent);
const token = decodeURIComponent(location.hash.slice(1));
const company = new URLSearchParams(location.search).get("company");
const LOW_IS_BAD = new Set(["service_level", "logged_in", "free"]);
const AGENTS = ["logged_in", "free", "busy", "wrap_up", "paused"];

let lang = data.chosen || document.documentElement.lang;
let last = null; // the latest figures, and when they came (performance.now())
let received = 0;
let gone = false;

function word(key, fill = {}) {
  const words = data.words[lang] || data.words.en;
  let phrase = words[key] || data.words.en[key] || key;
  for (const [name, value] of Object.entries(fill)) phrase = phrase.replace(`{${name}}`, value);
  return phrase;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const whole = Math.max(0, Math.floor(seconds));
  const m = Math.floor(whole / 60);
  const s = String(whole % 60).padStart(2, "0");
  return `${m}:${s}`;
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value)} %`;
}

function alarm(metric, value) {
  const limit = last && last.thresholds[metric];
  if (!limit || value === null || value === undefined) return "";
  const low = LOW_IS_BAD.has(metric);
  for (const colour of ["red", "amber"]) {
    const bound = limit[colour];
    if (bound !== null && bound !== undefined && (low ? value < bound : value > bound)) {
      return colour;
    }
  }
  return "";
}

function tile(metric, label, shown, value, extra = "") {
  const box = document.createElement("div");
  box.className = `tile ${extra}`.trim();
  box.dataset.metric = metric;
  const name = document.createElement("span");
  name.className = "label";
  name.textContent = label;
  const figure = document.createElement("span");
  figure.className = "value";
  figure.textContent = shown;
  box.append(name, figure);
  const colour = alarm(metric, value);
  if (colour) box.dataset.alarm = colour;
  return box;
}

function longest(queue, since) {
  return queue.longest_wait === null ? null : queue.longest_wait + since;
}

function render() {
  const main = document.getElementById("queues");
  const since = (performance.now() - received) / 1000;
  const sections = [];
  for (const queue of last.queues) {
    const section = document.createElement("section");
    section.className = "queue";
    section.dataset.group = queue.group;
    const title = document.createElement("h2");
    title.textContent = queue.group;
    const figures = document.createElement("div");
    figures.className = "figures";
    const wait = longest(queue, since);
    figures.append(
      tile("waiting", word("waiting"), String(queue.waiting), queue.waiting, "big"),
      tile("longest_wait", word("longest_wait"), duration(wait), wait, "big"),
      tile("average_wait", word("average_wait"), duration(queue.wait_average),
           queue.wait_average),
      tile("missed", word("missed"), String(queue.missed), queue.missed),
      tile("service_level", word("service_level", { seconds: last.service_level_seconds }),
           percent(queue.service_level), queue.service_level),
    );
    const agents = document.createElement("div");
    agents.className = "agents";
    const heading = document.createElement("h3");
    heading.textContent = word("agents");
    agents.append(heading);
    for (const state of AGENTS) {
      agents.append(tile(state, word(state), String(queue.agents[state]), queue.agents[state]));
    }
    section.append(title, figures, agents);
    sections.push(section);
  }
  if (!sections.length) {
    const none = document.createElement("p");
    none.className = "none";
    none.textContent = word(last.unavailable ? "no_switch" : "no_queues");
    sections.push(none);
  }
  main.replaceChildren(...sections);
}

function tick() {
  // Between updates the waits count up: only the longest wait's tile changes.
  if (!last || gone) return;
  const since = (performance.now() - received) / 1000;
  for (const queue of last.queues) {
    const box = document.querySelector(
      `section[data-group="${CSS.escape(queue.group)}"] [data-metric="longest_wait"]`);
    if (!box) continue;
    const wait = longest(queue, since);
    box.querySelector(".value").textContent = duration(wait);
    const colour = alarm("longest_wait", wait);
    if (colour) box.dataset.alarm = colour;
    else delete box.dataset.alarm;
  }
  document.getElementById("clock").textContent = new Date().toLocaleTimeString(lang);
}

function status(key) {
  document.getElementById("state").textContent = word(key);
  document.getElementById("state").dataset.state = key;
}

function themed(theme) {
  document.body.className = `theme-${theme}`;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = company ? `?company=${encodeURIComponent(company)}` : "";
  const socket = new WebSocket(`${scheme}//${location.host}/wallboard/live${query}`);
  socket.addEventListener("open", () => socket.send(JSON.stringify(token ? { token } : {})));
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type !== "figures") return;
    last = message;
    received = performance.now();
    if (!data.chosen && message.language) {
      lang = message.language;
      document.documentElement.lang = lang;
    }
    document.title = `${word("title")} – ${message.company}`;
    document.getElementById("title").textContent = `${word("title")} – ${message.company}`;
    if (message.theme) themed(message.theme);
    status("live");
    render();
  });
  socket.addEventListener("close", (event) => {
    if (event.code === 4404) {
      gone = true;
      last = null;
      document.getElementById("queues").replaceChildren();
      status("gone");
      return;
    }
    status("lost");
    setTimeout(connect, 3000);
  });
}

connect();
setInterval(tick, 1000);
