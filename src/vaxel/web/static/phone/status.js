// My status (U9, S8, A5, U8): diversion with an end time and the presses /me offers,
// logging in and out of answering groups, pausing with a reason, the caller ID my calls
// show, and the notifications switch. Times are the browser's clock, sent with its UTC offset.

import { api, me, t, clock } from "./api.js";
import * as notifications from "./notify.js";

const $ = (id) => document.getElementById(id);

/** Today's hh:mm, or tomorrow's once it has passed. */
function next(hour, minute) {
  const at = new Date();
  at.setHours(hour, minute, 0, 0);
  if (at <= new Date()) at.setDate(at.getDate() + 1);
  return at;
}

/** The coming Monday at 08:00. */
function nextMonday() {
  const at = next(8, 0);
  while (at.getDay() !== 1) at.setDate(at.getDate() + 1);
  return at;
}

/** A Date as ISO 8601 with the browser's UTC offset, as the API wants it. */
function withOffset(at) {
  const pad = (n) => String(Math.abs(n)).padStart(2, "0");
  const offset = -at.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T` +
    `${pad(at.getHours())}:${pad(at.getMinutes())}:00${sign}${pad(offset / 60 | 0)}:${pad(offset % 60)}`;
}

const SHORTCUTS = {
  lunch_13: () => ({ status: "lunch", until: withOffset(next(13, 0)) }),
  meeting_1530: () => ({ status: "meeting", until: withOffset(next(15, 30)) }),
  away_monday: () => ({ status: "away", until: withOffset(nextMonday()) }),
};

export class Status {
  constructor(events, say) {
    this.say = say;
    this.callerId = null;
    for (const button of document.querySelectorAll("[data-shortcut]")) {
      button.addEventListener("click", () => this.divert(SHORTCUTS[button.dataset.shortcut]()));
    }
    $("diversion-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.custom(event.target);
    });
    $("diversion-clear").addEventListener("click", () => this.clear());
    for (const box of document.querySelectorAll("[data-group]")) {
      box.addEventListener("change", () => this.login(box));
    }
    $("pause-form")?.addEventListener("submit", (event) => {
      event.preventDefault();
      this.pause($("pause-reason").value);
    });
    $("unpause")?.addEventListener("click", () => this.pause(null));
    $("caller-id-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.saveCallerId();
    });
    $("notify-button").addEventListener("click", async () => this.notifications(await notifications.ask()));
    this.notifications(notifications.permission());
    const mine = (m) => m.extension === me.extension;
    events.on("open", () => this.load());
    events.on("diversion.set", (m) => mine(m) && this.showDiversion(m));
    events.on("diversion.cleared", (m) => mine(m) && this.showDiversion(null));
    events.on("agent.paused", (m) => mine(m) && this.showPause(m.reason));
    events.on("agent.unpaused", (m) => mine(m) && this.showPause(null));
    for (const type of ["group.login", "group.logout"]) {
      events.on(type, (m) => {
        if (!mine(m)) return;
        const box = document.querySelector(`[data-group="${CSS.escape(m.group)}"]`);
        if (box) box.checked = type === "group.login";
      });
    }
  }

  async load() {
    const [diversion, settings] = await Promise.all([
      api("GET", "/me/diversion"),
      api("GET", "/me/settings"),
    ]);
    this.showDiversion(diversion);
    if ($("my-pause")) {
      const pause = await api("GET", "/me/pause");
      this.showPause(pause.paused ? pause.reason : null);
    }
    this.callerId = settings.caller_id;
    $("caller-id").value = settings.caller_id.show;
  }

  showDiversion(d) {
    $("diversion-clear").hidden = !d;
    if (!d) {
      $("my-diversion").textContent = t("phone.available");
      return;
    }
    const status = d.status === "custom" ? d.text : t(`status.${d.status}`);
    $("my-diversion").textContent = d.until
      ? t("phone.diverted", { status, until: clock(d.until) })
      : t("phone.diverted_open", { status });
  }

  async divert(body) {
    try {
      this.showDiversion(await api("PUT", "/me/diversion", body));
    } catch (error) {
      this.say(t("phone.failed", { detail: error.message }));
    }
  }

  custom(form) {
    const status = form.status.value;
    const body = { status, text: status === "custom" ? form.text.value.trim() : "" };
    const day = form.date.value;
    const time = form.time.value;
    if (day || time) {
      const [hour, minute] = (time || "00:00").split(":").map(Number);
      const at = day ? new Date(`${day}T00:00`) : next(hour, minute);
      at.setHours(hour, minute, 0, 0);
      body.until = withOffset(at);
    }
    this.divert(body);
  }

  async clear() {
    try {
      await api("DELETE", "/me/diversion");
      this.showDiversion(null);
    } catch (error) {
      this.say(t("phone.failed", { detail: error.message }));
    }
  }

  /** A5: paused (`reason`, "" for none, words from the company's list) or not (null). */
  showPause(reason) {
    if (!$("my-pause")) return;
    $("unpause").hidden = reason === null;
    if (reason === null) {
      $("my-pause").textContent = t("phone.not_paused");
      return;
    }
    const option = [...$("pause-reason").options].find((o) => o.value === reason);
    const words = option ? option.textContent : reason;
    $("my-pause").textContent = reason ? t("phone.paused_for", { reason: words }) : t("phone.paused");
  }

  async pause(reason) {
    try {
      if (reason === null) {
        await api("DELETE", "/me/pause");
      } else {
        await api("PUT", "/me/pause", { reason });
      }
      this.showPause(reason);
    } catch (error) {
      this.say(t("phone.failed", { detail: error.message }));
    }
  }

  async login(box) {
    const path = `/companies/${encodeURIComponent(me.domain)}/groups/` +
      `${encodeURIComponent(box.dataset.group)}/members/${encodeURIComponent(me.extension)}`;
    try {
      const member = await api("PUT", path, { logged_in: box.checked });
      box.checked = member.logged_in;
    } catch (error) {
      box.checked = !box.checked;
      this.say(t("phone.failed", { detail: error.message }));
    }
  }

  async saveCallerId() {
    const per_device = this.callerId?.per_device ?? {};
    try {
      const saved = await api("PUT", "/me/caller-id", { show: $("caller-id").value, per_device });
      this.callerId = saved.caller_id;
      this.say(t("phone.saved"), "ok");
    } catch (error) {
      this.say(t("phone.failed", { detail: error.message }));
    }
  }

  /** Shows what the browser allows; once allowed, also asks for Web Push. */
  async notifications(state) {
    const words = { granted: "phone.notify_granted", denied: "phone.notify_denied",
                    unsupported: "phone.notify_none" }[state];
    $("notify-state").textContent = words ? t(words) : "";
    $("notify-button").hidden = state !== "default";
    if (state !== "granted") return;
    const pushed = await notifications.subscribe();
    $("notify-state").textContent = pushed === "push"
      ? t("phone.notify_push")
      : `${t("phone.notify_granted")} ${t("phone.notify_no_push", { reason: pushed })}`;
  }
}
