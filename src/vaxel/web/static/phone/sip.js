// The browser's SIP phone (U1, U3): JsSIP over SIP over WebSocket at /ws of this site,
// registered with the browser's own credential from GET /api/v1/me/softphone (digest
// username EXT-web and an HA1, never the desk phone's password).

import { api } from "./api.js";

const CALL_OPTIONS = {
  mediaConstraints: { audio: true, video: false },
  rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: false },
  pcConfig: { iceServers: [] }, // the switch is ICE-lite on this network: no STUN needed
};

export class Softphone extends EventTarget {
  constructor() {
    super();
    this.ua = null;
    this.account = null;
    this.state = "connecting";
  }

  fire(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setState(state, cause = "") {
    this.state = state;
    this.fire("state", { state, cause });
  }

  async start() {
    this.account = await api("GET", "/me/softphone");
    this.fire("account", this.account);
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new JsSIP.WebSocketInterface(scheme + location.host + this.account.ws_path);
    const ua = new JsSIP.UA({
      sockets: [socket],
      uri: this.account.uri,
      authorization_user: this.account.authorization_user,
      ha1: this.account.ha1,
      realm: this.account.realm,
      display_name: this.account.display_name,
      register: true,
      register_expires: 300,
      session_timers: false,
      user_agent: `Vaxel softphone (JsSIP ${JsSIP.version})`,
      connection_recovery_min_interval: 2,
      connection_recovery_max_interval: 30,
    });
    ua.on("registered", () => this.setState("registered"));
    ua.on("unregistered", () => this.setState("unregistered"));
    ua.on("disconnected", () => this.setState("disconnected"));
    ua.on("registrationFailed", (event) => this.failed(event.cause));
    ua.on("newRTCSession", (event) => {
      if (event.originator === "remote") this.fire("incoming", event.session);
    });
    ua.on("newMessage", (event) => {
      if (event.originator !== "remote") return;
      const from = event.request.from;
      this.fire("message", { user: from.uri.user, name: from.display_name, text: event.request.body });
    });
    this.ua = ua;
    ua.start();
  }

  /** A refused registration: the credential may have been revoked ("log out everywhere",
   * a new web password); a new one is asked for, which sends a logged-out user to login. */
  async failed(cause) {
    this.setState("failed", cause);
    if (cause !== JsSIP.C.causes.AUTHENTICATION_ERROR) return;
    this.ua.stop();
    setTimeout(() => this.start().catch(() => this.setState("failed", cause)), 5000);
  }

  address(target) {
    return target.startsWith("sip:") ? target : `sip:${target}@${this.account.domain}`;
  }

  /** Calls `target`; `shown` is one of my numbers (account.caller_ids) for this call to
   * show, asked for as RFC 3325's P-Preferred-Identity (the switch checks it is mine). */
  call(target, shown = "") {
    const options = { ...CALL_OPTIONS };
    if (shown) options.extraHeaders = [`P-Preferred-Identity: <sip:${shown}@${this.account.domain}>`];
    return this.ua.call(this.address(target), options);
  }

  answerOptions() {
    return { mediaConstraints: CALL_OPTIONS.mediaConstraints, pcConfig: CALL_OPTIONS.pcConfig };
  }

  /** Sends a chat message as SIP MESSAGE; resolves on the switch's 2xx. */
  sendMessage(target, text) {
    return new Promise((resolve, reject) => {
      this.ua.sendMessage(this.address(target), text, {
        contentType: "text/plain",
        eventHandlers: {
          succeeded: () => resolve(),
          failed: (event) => reject(new Error(event.cause)),
        },
      });
    });
  }
}
