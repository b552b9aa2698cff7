// Voicemail (U7), call history and contacts (U4) in the softphone: read from the API,
// read again when a live event says they changed.

import { api, el, me, t, clock, debounce } from "./api.js";
import { notify } from "./notify.js";

const domain = () => encodeURIComponent(me.domain);

function empty(words) {
  return el("li", { class: "empty", text: words });
}

export class Voicemail {
  constructor(events, say) {
    this.say = say;
    this.newCount = null;
    const reload = debounce(() => this.load());
    events.on("open", reload);
    events.on("voicemail", reload);
  }

  async load() {
    const boxes = (await api("GET", "/me/voicemail")).items;
    const holder = document.getElementById("voicemail-boxes");
    const sections = await Promise.all(boxes.map((box) => this.box(box)));
    holder.replaceChildren(...sections);
    const fresh = boxes.reduce((sum, box) => sum + box.new, 0);
    if (this.newCount !== null && fresh > this.newCount) {
      notify(t("phone.notify_voicemail", { count: fresh }), "", "voicemail");
    }
    this.newCount = fresh;
    const badge = document.getElementById("badge-voicemail");
    badge.hidden = fresh === 0;
    badge.textContent = String(fresh);
  }

  async box(box) {
    const path = `/companies/${domain()}/voicemail/${encodeURIComponent(box.box)}/messages`;
    const found = await api("GET", path);
    const title = box.box === me.extension ? t("phone.voicemail") : box.box;
    const id = `box-${box.box}`;
    const list = el("ul", { class: "calls", "aria-labelledby": id });
    for (const m of found.items) list.append(this.message(path, m));
    if (!found.items.length) list.append(empty(t("phone.no_messages")));
    return el("section", { class: "box" }, el("h2", { id, text: title }), list);
  }

  message(path, m) {
    const caller = m.caller_name ? `${m.caller_name} (${m.caller})` : m.caller;
    const heard = el("button", { type: "button", class: "secondary", text: t("phone.mark_heard"),
      onclick: () => this.markHeard(path, m.id) });
    return el("li", { "data-heard": String(m.heard) },
      el("span", { class: "who" },
        m.heard ? null : el("strong", { text: `${t("phone.new")}: ` }),
        t("phone.from", { caller }), ` · ${clock(m.received_at)} · ${Math.round(m.duration_seconds)} s`),
      el("audio", { controls: true, preload: "none", src: `/api/v1${path}/${m.id}/audio`,
        "aria-label": t("phone.from", { caller }) }),
      m.heard ? null : heard);
  }

  async markHeard(path, id) {
    try {
      await api("PATCH", `${path}/${id}`, { heard: true });
      await this.load();
    } catch (error) {
      this.say(t("phone.failed", { detail: error.message }));
    }
  }
}

export class History {
  constructor(events, dial) {
    this.dial = dial;
    const reload = debounce(() => this.load(), 500);
    events.on("open", reload);
    events.on("call.ended", reload);
  }

  async load() {
    const calls = (await api("GET", `/companies/${domain()}/calls?limit=50`)).items;
    const missed = calls.filter((c) => this.missed(c));
    const missedList = document.getElementById("missed-list");
    missedList.replaceChildren(...missed.map((c) => this.row(c)));
    if (!missed.length) missedList.append(empty(t("phone.no_calls")));
    const all = document.getElementById("history-list");
    all.replaceChildren(...calls.map((c) => this.row(c)));
    if (!calls.length) all.append(empty(t("phone.no_calls")));
  }

  /** A call to me that I did not answer (nobody did, or voicemail did). */
  missed(c) {
    return c.callee === me.extension && c.caller !== me.extension && c.answered_by !== me.extension;
  }

  row(c) {
    const incoming = c.caller !== me.extension;
    const other = incoming ? c.caller : c.callee;
    const name = incoming && c.caller_name ? `${c.caller_name} (${other})` : other;
    const words = t(incoming ? "phone.call_in" : "phone.call_out", { who: name });
    return el("li", { "data-missed": String(this.missed(c)) },
      el("span", { class: "who", text: `${words} · ${clock(c.started_at)}` }),
      el("button", { type: "button", text: t("phone.call"),
        "aria-label": t("phone.call_to", { name }), onclick: () => this.dial(other) }));
  }
}

export class Contacts {
  constructor(events, actions) {
    this.actions = actions; // { dial(number), chat(ext, name) }
    this.search = document.getElementById("contact-search");
    const reload = debounce(() => this.contacts(), 250);
    this.search.addEventListener("input", reload);
    events.on("open", () => this.load());
  }

  async load() {
    await Promise.all([this.favourites(), this.contacts()]);
  }

  async favourites() {
    const items = (await api("GET", "/me/favourites")).items;
    const list = document.getElementById("favourite-list");
    list.replaceChildren(...items.map((f) => el("li", {},
      el("span", { class: "who" }, el("span", { class: "name", text: f.name }), ` ${f.extension}`),
      el("button", { type: "button", text: t("phone.call"),
        "aria-label": t("phone.call_to", { name: f.name }), onclick: () => this.actions.dial(f.extension) }),
      el("button", { type: "button", class: "secondary", text: t("phone.chat"),
        "aria-label": t("phone.chat_with", { name: f.name }),
        onclick: () => this.actions.chat(f.extension, f.name) }))));
    if (!items.length) list.append(empty(t("phone.no_favourites")));
  }

  async contacts() {
    const q = this.search.value.trim();
    const items = (await api("GET", "/me/contacts" + (q ? `?q=${encodeURIComponent(q)}` : ""))).items;
    const list = document.getElementById("contact-list");
    list.replaceChildren(...items.map((c) => el("li", {},
      el("span", { class: "who" }, el("span", { class: "name", text: c.name }),
        c.organisation ? ` · ${c.organisation}` : ""),
      ...c.numbers.map((n) => el("button", { type: "button", text: `${n.kind}: ${n.number}`,
        "aria-label": t("phone.call_to", { name: `${c.name} (${n.number})` }),
        onclick: () => this.actions.dial(n.number) })))));
    if (!items.length) list.append(empty(t("phone.no_contacts")));
  }
}
