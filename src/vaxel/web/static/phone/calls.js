// Calls in the browser (U3): dialling, the incoming call screen, and in a call hold, mute,
// keys (RFC 4733 telephone-events through JsSIP's RFC2833 DTMF), hang up, transfer blind
// (REFER) or announced (a second call, then REFER with Replaces), by dropping the call on
// a colleague (blind), and a third party through the API (POST /calls/{id}/add).

import { api, me, t } from "./api.js";
import { notify } from "./notify.js";

const $ = (id) => document.getElementById(id);
const ENDED_SHOWN_MS = 2500; // how long "Call ended" stays before the screen closes

/** Who a session is with, as a person reads it. */
function peerOf(session) {
  const identity = session.remote_identity;
  const user = identity.uri.user;
  return identity.display_name ? `${identity.display_name} (${user})` : user;
}

export class Calls {
  constructor(phone, events, say) {
    this.phone = phone;
    this.say = say;
    this.current = null; // the call shown (and talked in)
    this.first = null; // while consulting: the call on hold that will be transferred
    this.switchCallId = null; // the switch's id of my call, from the live events
    this.closing = null;
    phone.addEventListener("incoming", (event) => this.incoming(event.detail));
    events.on("line.state", (message) => {
      if (message.extension !== me.extension || !message.call_id) return;
      if (message.call_state === "terminated") {
        if (this.switchCallId === message.call_id) this.switchCallId = null;
      } else if (message.call_state === "confirmed") {
        this.switchCallId = message.call_id;
      }
    });
    this.wire();
  }

  wire() {
    $("answer").addEventListener("click", () => this.answer());
    $("decline").addEventListener("click", () => this.current?.terminate({ status_code: 486 }));
    $("hang-up").addEventListener("click", () => this.hangUp());
    $("hold").addEventListener("click", () => this.toggleHold());
    $("mute").addEventListener("click", () => this.toggleMute());
    this.toggler("dtmf-toggle", "dtmf-keys");
    this.toggler("transfer-toggle", "transfer-form");
    this.toggler("add-toggle", "add-form");
    $("dtmf-keys").addEventListener("click", (event) => {
      const key = event.target.closest("button")?.dataset.dtmf;
      if (key && this.current) this.current.sendDTMF(key, { transportType: "RFC2833" });
    });
    $("transfer-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.transfer($("transfer-to").value.trim());
    });
    $("consult").addEventListener("click", () => this.consult($("transfer-to").value.trim()));
    $("complete").addEventListener("click", () => this.complete());
    $("back-to-first").addEventListener("click", () => this.backToFirst());
    $("add-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.add($("add-to").value.trim());
    });
    $("call-card").addEventListener("dragstart", (event) => {
      if (!this.current?.isEstablished()) return event.preventDefault();
      event.dataTransfer.setData("application/x-vaxel-call", "current");
      event.dataTransfer.effectAllowed = "move";
    });
  }

  toggler(buttonId, panelId) {
    $(buttonId).addEventListener("click", () => {
      const open = $(panelId).hidden;
      $(panelId).hidden = !open;
      $(buttonId).setAttribute("aria-expanded", String(open));
    });
  }

  dial(target) {
    if (!target) return;
    if (this.current && !this.first) {
      this.say(t("phone.in_call"));
      return;
    }
    try {
      const session = this.phone.call(target, $("dial-caller-id").value);
      this.show(session, "outgoing");
    } catch (error) {
      this.say(t("phone.call_failed", { cause: error.message }));
    }
  }

  incoming(session) {
    if (this.current) {
      session.terminate({ status_code: 486 }); // busy here: the switch's call waiting decides
      return;
    }
    this.show(session, "incoming");
    notify(t("phone.incoming"), peerOf(session), "call");
  }

  show(session, direction) {
    clearTimeout(this.closing);
    this.current = session;
    session.direction_shown = direction;
    $("call-screen").hidden = false;
    $("call-title").textContent = t(direction === "incoming" ? "phone.incoming" : "phone.outgoing");
    $("call-peer").textContent = peerOf(session);
    $("call-state").textContent = "";
    $("incoming-actions").hidden = direction !== "incoming";
    $("call-actions").hidden = direction === "incoming";
    for (const panel of ["dtmf-keys", "transfer-form", "add-form"]) $(panel).hidden = true;
    this.setPressed("hold", false, "phone.hold", "phone.resume");
    this.setPressed("mute", false, "phone.mute", "phone.unmute");
    if (session.vaxelWired) return; // back to a call shown before: its handlers are there
    session.vaxelWired = true;
    session.on("peerconnection", (event) => this.media(event.peerconnection));
    if (session.connection) this.media(session.connection);
    session.on("progress", () => {
      if (session === this.current) $("call-state").textContent = t("phone.line.ringing");
    });
    session.on("accepted", () => this.established(session));
    session.on("confirmed", () => this.established(session));
    session.on("hold", () => session === this.current && this.setPressed("hold", true, "phone.hold", "phone.resume"));
    session.on("unhold", () => session === this.current && this.setPressed("hold", false, "phone.hold", "phone.resume"));
    session.on("ended", () => this.over(session, t("phone.call_ended")));
    session.on("failed", (event) => {
      const missed = direction === "incoming" && event.originator === "remote";
      if (missed) notify(t("phone.notify_missed", { who: peerOf(session) }), "", "missed");
      const words = missed ? t("phone.call_ended") : t("phone.call_failed", { cause: event.cause });
      this.over(session, words);
    });
  }

  media(connection) {
    connection.addEventListener("track", (event) => {
      const [stream] = event.streams;
      if (stream) $("remote-audio").srcObject = stream;
    });
  }

  established(session) {
    if (session !== this.current) return;
    $("call-title").textContent = t("phone.in_call");
    $("call-state").textContent = t("phone.line.talking");
    $("incoming-actions").hidden = true;
    $("call-actions").hidden = false;
  }

  over(session, words) {
    if (session === this.first) {
      this.first = null; // the held call ended while consulting
      $("consult-actions").hidden = true;
      return;
    }
    if (session !== this.current) return;
    if (this.first) {
      // The consulted party went away: back to the first call.
      this.current = null;
      this.backToFirst();
      return;
    }
    this.current = null;
    $("call-state").textContent = words;
    $("incoming-actions").hidden = true;
    $("call-actions").hidden = true;
    $("consult-actions").hidden = true;
    this.closing = setTimeout(() => {
      if (!this.current) $("call-screen").hidden = true;
    }, ENDED_SHOWN_MS);
  }

  answer() {
    if (this.current && !this.current.isEstablished()) {
      this.current.answer(this.phone.answerOptions());
    }
  }

  hangUp() {
    if (this.current && !this.current.isEnded()) this.current.terminate();
  }

  setPressed(id, pressed, off, on) {
    $(id).setAttribute("aria-pressed", String(pressed));
    $(id).textContent = t(pressed ? on : off);
  }

  toggleHold() {
    const session = this.current;
    if (!session?.isEstablished()) return;
    if (session.isOnHold().local) session.unhold();
    else session.hold();
  }

  toggleMute() {
    const session = this.current;
    if (!session?.isEstablished()) return;
    const muted = session.isMuted().audio;
    if (muted) session.unmute({ audio: true });
    else session.mute({ audio: true });
    this.setPressed("mute", !muted, "phone.mute", "phone.unmute");
  }

  /** A blind transfer of the call shown: REFER to the target; our side ends when it took. */
  transfer(target) {
    const session = this.current;
    if (!target || !session?.isEstablished()) return;
    session.refer(this.phone.address(target), {
      eventHandlers: {
        accepted: () => {
          this.say(t("phone.transferred", { to: target }), "ok");
          if (!session.isEnded()) session.terminate();
        },
        failed: (event) => this.say(t("phone.transfer_failed", { cause: event.cause ?? "" })),
        requestFailed: (event) => this.say(t("phone.transfer_failed", { cause: event.cause ?? "" })),
      },
    });
  }

  /** An announced transfer, first step: the call waits on hold while we call the target. */
  consult(target) {
    const session = this.current;
    if (!target || !session?.isEstablished() || this.first) return;
    session.hold();
    this.first = session;
    this.current = null;
    $("consult-actions").hidden = false;
    this.dial(target);
  }

  /** The second step: the held party is sent to the one we talked to (REFER with
   * Replaces), and both our calls end. */
  complete() {
    const first = this.first;
    const second = this.current;
    if (!first || !second?.isEstablished()) return;
    first.refer(second.remote_identity.uri, {
      replaces: second,
      eventHandlers: {
        accepted: () => {
          this.say(t("phone.transferred", { to: second.remote_identity.uri.user }), "ok");
          if (!first.isEnded()) first.terminate();
          if (!second.isEnded()) second.terminate();
        },
        failed: (event) => this.say(t("phone.transfer_failed", { cause: event.cause ?? "" })),
      },
    });
  }

  backToFirst() {
    const first = this.first;
    if (this.current && !this.current.isEnded()) this.current.terminate();
    this.first = null;
    $("consult-actions").hidden = true;
    if (!first || first.isEnded()) return;
    this.show(first, first.direction_shown);
    this.established(first);
    first.unhold();
  }

  /** Three-way (U12): the switch rings `target` and joins the three when they answer. */
  async add(target) {
    if (!target || !this.current?.isEstablished()) return;
    if (!this.switchCallId) {
      this.say(t("phone.no_call_id"));
      return;
    }
    try {
      await api("POST", `/calls/${encodeURIComponent(this.switchCallId)}/add`, { to: target });
      this.say(t("phone.added", { to: target }), "ok");
      $("add-form").hidden = true;
    } catch (error) {
      this.say(t("phone.failed", { detail: error.message }));
    }
  }

  /** A call dropped on a colleague: transferred to them, blind. */
  dropOn(extension) {
    this.transfer(extension);
  }
}
