// The softphone's start (U1, U3): the views, the notice line, and the parts wired together.
// Each part is a module of its own: sip.js (JsSIP), calls.js, colleagues.js, chat.js,
// lists.js (voicemail, history, contacts), status.js, events.js, notify.js.

import { api, t } from "./api.js";
import { Calls } from "./calls.js";
import { Chat } from "./chat.js";
import { Colleagues } from "./colleagues.js";
import { Events } from "./events.js";
import { Contacts, History, Voicemail } from "./lists.js";
import { Softphone } from "./sip.js";
import { Status } from "./status.js";
import { teachWorker } from "./notify.js";

const $ = (id) => document.getElementById(id);

/** Says something on the notice line ("ok" or a problem), until the next thing said. */
function say(words, kind = "problem") {
  const notice = $("notice");
  notice.textContent = words;
  notice.dataset.kind = kind;
  notice.hidden = false;
}

function showView(name) {
  for (const button of document.querySelectorAll(".tabs [data-view]")) {
    const chosen = button.dataset.view === name;
    button.setAttribute("aria-pressed", String(chosen));
    $(`view-${button.dataset.view}`).hidden = !chosen;
  }
  $("notice").hidden = true;
  if (name === "chat") chat.refresh();
}

function shown(name) {
  return !$(`view-${name}`).hidden && document.visibilityState === "visible";
}

const phone = new Softphone();
const events = new Events();
const calls = new Calls(phone, events, say);
const chat = new Chat(phone, events, say, () => shown("chat"));
const startChat = (ext, name) => {
  showView("chat");
  chat.start(ext, name);
};
const dial = (number) => calls.dial(number);
new Colleagues(events, { dial, chat: startChat, drop: (ext) => calls.dropOn(ext) });
// A16: the operator console links a colleague's chat as /phone#chat=EXT.
const asked = /^#chat=([0-9]{2,10})$/.exec(location.hash);
if (asked) startChat(asked[1], asked[1]);
new Voicemail(events, say);
new History(events, dial);
new Contacts(events, { dial, chat: startChat });
new Status(events, say);

for (const button of document.querySelectorAll(".tabs [data-view]")) {
  button.addEventListener("click", () => showView(button.dataset.view));
}

// The keypad: keys and typing both fill the number; the form dials it.
$("dial-keys").addEventListener("click", (event) => {
  const key = event.target.closest("button")?.dataset.key;
  if (key) $("dial-number").value += key;
});
$("dial-delete").addEventListener("click", () => {
  $("dial-number").value = $("dial-number").value.slice(0, -1);
});
$("dial-form").addEventListener("submit", (event) => {
  event.preventDefault();
  dial($("dial-number").value.replace(/[\s()-]/g, ""));
});

// The numbers a call may show (U8): one of them for the next call, or the usual choice.
phone.addEventListener("account", (event) => {
  const select = $("dial-caller-id");
  select.replaceChildren(select.options[0]);
  for (const [kind, number] of Object.entries(event.detail.caller_ids)) {
    select.append(new Option(t("phone.number_of", { kind: t(`cid.${kind}`), number }), number));
  }
});
phone.addEventListener("state", (event) => {
  const { state, cause } = event.detail;
  const reg = $("reg");
  reg.dataset.state = state;
  reg.textContent = t(`phone.reg.${state}`, { cause });
});
events.on("closed", () => {
  say(t("phone.events_lost"));
  api("GET", "/me").catch(() => {}); // a session that ended elsewhere goes back to the login
});
events.on("open", (message) => {
  if (message.again) $("notice").hidden = true;
});

window.addEventListener("load", () => {
  phone.start().catch((error) => say(t("phone.failed", { detail: error.message })));
  events.start();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/phone/sw.js", { scope: "/phone" })
      .then(() => navigator.serviceWorker.ready)
      .then(() => teachWorker({
        call: t("phone.incoming"),
        missed: t("phone.notify_missed", { who: "{who}" }),
        voicemail: t("phone.notify_voicemail", { count: "{count}" }),
      }))
      .catch(() => {});
  }
});
