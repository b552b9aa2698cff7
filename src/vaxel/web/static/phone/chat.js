// Chat (U4): conversations one-to-one and in groups, written as SIP MESSAGE from the
// browser's own phone (JsSIP sendMessage; the switch keeps it and delivers it to the
// colleague's phones), received as SIP MESSAGE and as live events, with the history and
// the read marks from the API (/api/v1/me/chats, /api/v1/me/chat-groups).

import { api, el, me, t, clock, debounce } from "./api.js";
import { notify } from "./notify.js";

export class Chat {
  constructor(phone, events, say, isShown) {
    this.phone = phone;
    this.say = say;
    this.isShown = isShown; // () => is the chat view what the user looks at
    this.open = null; // {kind: "user"|"group", id, name}
    this.names = new Map(); // ext -> name, for conversations not started yet
    this.reload = debounce(() => this.refresh());
    document.getElementById("chat-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    document.getElementById("group-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.makeGroup(event.target);
    });
    phone.addEventListener("message", (event) => {
      const { user, name } = event.detail;
      notify(t("phone.notify_message", { who: name || user }), event.detail.text, "chat");
      this.reload();
    });
    events.on("chat.message", () => this.reload());
    events.on("open", () => this.reload());
  }

  async refresh() {
    await Promise.all([this.list(), this.open ? this.messages() : null]);
  }

  async list() {
    const [people, groups] = await Promise.all([
      api("GET", "/me/chats"),
      api("GET", "/me/chat-groups"),
    ]);
    const list = document.getElementById("chat-list");
    list.replaceChildren();
    let unread = 0;
    for (const c of people.items) {
      unread += c.unread;
      this.names.set(c.with, c.name);
      list.append(this.entry({ kind: "user", id: c.with, name: c.name || c.with }, c.last.text, c.unread));
    }
    for (const g of groups.items) {
      unread += g.unread;
      list.append(this.entry({ kind: "group", id: String(g.id), name: g.name }, t("phone.group"), g.unread));
    }
    document.getElementById("chat-none").hidden = list.children.length > 0;
    const badge = document.getElementById("badge-chat");
    badge.hidden = unread === 0;
    badge.textContent = String(unread);
  }

  entry(room, last, unread) {
    const words = unread ? ` (${t("phone.unread", { count: unread })})` : "";
    return el("li", {},
      el("button", { type: "button", onclick: () => this.show(room) },
        el("strong", { text: room.name }), el("span", { text: ` – ${last}${words}` })));
  }

  /** Opens the conversation with a colleague (from the colleagues' list too). */
  start(ext, name) {
    this.show({ kind: "user", id: ext, name: name || this.names.get(ext) || ext });
  }

  async show(room) {
    this.open = room;
    document.getElementById("chat-room").hidden = false;
    document.getElementById("chat-title").textContent = room.name;
    await this.messages();
  }

  base() {
    return this.open.kind === "group"
      ? `/me/chat-groups/${encodeURIComponent(this.open.id)}`
      : `/me/chats/${encodeURIComponent(this.open.id)}`;
  }

  async messages() {
    const room = this.open;
    const path = this.base() + (room.kind === "group" ? "/messages" : "");
    const found = await api("GET", path);
    if (room !== this.open) return;
    const list = document.getElementById("chat-messages");
    list.replaceChildren(...found.items.map((m) => this.message(m)));
    list.lastElementChild?.scrollIntoView({ block: "nearest" });
    const unread = found.items.some((m) => m.sender !== me.extension && !m.read_at);
    if (unread && this.isShown()) {
      await api("POST", this.base() + "/read");
      this.list();
    }
  }

  message(m) {
    const mine = m.sender === me.extension;
    const who = mine ? t("phone.you") : this.names.get(m.sender) || m.sender;
    const read = mine && m.read_at ? ` · ${t("phone.read")}` : "";
    return el("li", { "data-mine": String(mine) },
      el("span", { class: "meta", text: `${who} · ${clock(m.sent_at)}${read}` }),
      el("span", { text: m.text }));
  }

  async send() {
    const field = document.getElementById("chat-text");
    const text = field.value.trim();
    if (!text || !this.open) return;
    const target = this.open.kind === "group" ? `chat-${this.open.id}` : this.open.id;
    try {
      await this.phone.sendMessage(target, text);
      field.value = "";
      await this.messages();
    } catch (error) {
      this.say(t("phone.failed", { detail: error.message }));
    }
  }

  async makeGroup(form) {
    const members = form.members.value.split(/[\s,;]+/).filter(Boolean);
    try {
      const made = await api("POST", "/me/chat-groups", { name: form.name.value.trim(), members });
      form.reset();
      await this.list();
      this.show({ kind: "group", id: String(made.id), name: made.name });
    } catch (error) {
      this.say(t("phone.failed", { detail: error.message }));
    }
  }
}
