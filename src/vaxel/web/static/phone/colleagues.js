// Colleagues (U3, U10, U9): everyone of the company with their line (free, ringing, on
// the phone, on hold) and diversion, live from the events, searched as one types; call or
// chat with a press, and drop the call on one to transfer it.

import { api, el, me, t, clock } from "./api.js";

const LINES = ["idle", "dialling", "ringing", "talking", "held"];

export class Colleagues {
  constructor(events, actions) {
    this.actions = actions; // { dial(ext), chat(ext, name), drop(ext) }
    this.people = []; // [{ext, name}]
    this.lines = new Map(); // ext -> line state
    this.diversions = new Map(); // ext -> diversion
    this.rows = new Map(); // ext -> <li>
    this.search = document.getElementById("colleague-search");
    this.search.addEventListener("input", () => this.filter());
    events.on("open", () => this.load());
    events.on("line.state", (m) => this.line(m.extension, m.state));
    events.on("diversion.set", (m) => {
      this.diversions.set(m.extension, m);
      this.update(m.extension);
    });
    events.on("diversion.cleared", (m) => {
      this.diversions.delete(m.extension);
      this.update(m.extension);
    });
  }

  async load() {
    const domain = encodeURIComponent(me.domain);
    const [users, diverted] = await Promise.all([
      api("GET", `/companies/${domain}/users?limit=500`),
      api("GET", `/companies/${domain}/diversions`),
    ]);
    this.people = users.items.filter((u) => u.ext !== me.extension);
    this.diversions = new Map(diverted.items.map((d) => [d.extension, d]));
    this.render();
  }

  name(ext) {
    return this.people.find((p) => p.ext === ext)?.name ?? ext;
  }

  line(ext, state) {
    if (!LINES.includes(state)) return;
    this.lines.set(ext, state);
    this.update(ext);
  }

  render() {
    const list = document.getElementById("colleague-list");
    list.replaceChildren();
    this.rows.clear();
    for (const person of this.people) {
      const row = this.row(person);
      this.rows.set(person.ext, row);
      list.append(row);
    }
    this.filter();
  }

  row(person) {
    const li = el("li", { "data-ext": person.ext });
    const who = el("span", { class: "who" },
      el("span", { class: "name", text: person.name }), " ",
      el("span", { class: "ext", text: person.ext }), " ",
      el("span", { class: "line" }), " ",
      el("span", { class: "diverted" }));
    li.append(who,
      el("button", { type: "button", text: t("phone.call"),
        "aria-label": t("phone.call_to", { name: person.name }),
        onclick: () => this.actions.dial(person.ext) }),
      el("button", { type: "button", class: "secondary", text: t("phone.chat"),
        "aria-label": t("phone.chat_with", { name: person.name }),
        onclick: () => this.actions.chat(person.ext, person.name) }));
    li.addEventListener("dragover", (event) => {
      if (!event.dataTransfer.types.includes("application/x-vaxel-call")) return;
      event.preventDefault();
      li.dataset.drop = "over";
    });
    li.addEventListener("dragleave", () => delete li.dataset.drop);
    li.addEventListener("drop", (event) => {
      event.preventDefault();
      delete li.dataset.drop;
      this.actions.drop(person.ext);
    });
    this.fill(li, person.ext);
    return li;
  }

  fill(li, ext) {
    const state = this.lines.get(ext) ?? "idle";
    const line = li.querySelector(".line");
    line.dataset.state = state;
    line.textContent = t(`phone.line.${state}`);
    const diversion = this.diversions.get(ext);
    const words = diversion ? this.diversionWords(diversion) : "";
    li.querySelector(".diverted").textContent = words;
  }

  diversionWords(d) {
    const status = d.status === "custom" ? d.text : t(`status.${d.status}`);
    if (!d.until) return t("phone.diverted_open", { status });
    return t("phone.diverted", { status, until: clock(d.until) });
  }

  update(ext) {
    const li = this.rows.get(ext);
    if (li) this.fill(li, ext);
  }

  filter() {
    const q = this.search.value.trim().toLowerCase();
    let shown = 0;
    for (const person of this.people) {
      const match = !q || person.name.toLowerCase().includes(q) || person.ext.startsWith(q);
      this.rows.get(person.ext).hidden = !match;
      if (match) shown += 1;
    }
    document.getElementById("colleague-none").hidden = shown > 0;
  }
}
