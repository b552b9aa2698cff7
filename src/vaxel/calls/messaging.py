"""Chat over SIP MESSAGE (U4; RFC 3428): a colleague's phone sends, the switch keeps and
delivers.

A MESSAGE from an authenticated user (digest, as for a call: 407 first) to a colleague's
extension is kept (services/chat.py) and then answered 202 Accepted: the switch is the
store-and-forward server RFC 3428 §7 allows, so "accepted" means stored, not read. Then
it goes to every device the colleague has registered, as a MESSAGE from the sender; one
that takes it (2xx) marks it delivered. A message nobody took waits: the recipient's next
REGISTER sends what waits, oldest first. Which users have something waiting is kept in
memory (read at start), so a REGISTER costs no query unless something does wait.

A group chat (services/chat.py) has an address of its own, `sip:chat-<id>@domain`: its
messages reach a member's phone from that address (shown as "Anna (Sales)"), so a reply
from the phone goes to the whole group; only members may write to it (404 otherwise).

Only plain text (`text/plain`, UTF-8) is taken: 415 says what is accepted. An unknown or
another company's extension is 404, the same for both (no enumeration); a body that is
empty, too long or not text is 400 with why. The web's messages come in through `send`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Protocol

from vaxel.calls.router import Router
from vaxel.calls.signalling import Signalling
from vaxel.services.chat import Message
from vaxel.services.errors import Invalid, NotFound
from vaxel.services.users import SipUser
from vaxel.sip.dialog import new_call_id, new_tag
from vaxel.sip.events import (
    Event,
    ResponseReceived,
    TransactionKey,
    TransactionTimeout,
    TransportError,
)
from vaxel.sip.headers import NameAddr
from vaxel.sip.message import Headers, Request, Response, make_response
from vaxel.sip.uri import parse_uri
from vaxel.transport.base import Source

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain"
GROUP_PREFIX = "chat-"  # a group chat's address: sip:chat-12@domain (replies reach it)
MAX_BYTES = 8000  # a MESSAGE's body on the wire (services/chat.py counts characters)

Users = Callable[[str, str], SipUser | None]  # (domain, extension) -> the user


class Store(Protocol):
    """What messaging needs of the database (bound to a `Store` by the assembly); each
    runs on the database thread."""

    def keep(self, company_id: int, sender: str, recipient: str, body: str) -> Message: ...

    def keep_group(
        self, company_id: int, group_id: int, sender: str, body: str
    ) -> tuple[list[Message], str]:
        """A copy per member, and the group's name (NotFound: no such group of theirs)."""
        ...

    def delivered(self, company_id: int, ids: list[int]) -> None: ...

    def waiting(self, company_id: int, recipient: str) -> tuple[list[Message], dict[int, str]]:
        """What waits for `recipient`, and the names of the groups it was written in."""
        ...


class Background(Protocol):
    def run(
        self, work: Callable[[], object], then: Callable[[object], None] | None = None
    ) -> None: ...


class Messaging:
    """The switch's side of chat: MESSAGE in, MESSAGE out, and what waits."""

    def __init__(
        self,
        signalling: Signalling,
        router: Router,
        users: Users,
        store: Store,
        background: Background,
        *,
        clock: Callable[[], float],
        waiting: set[tuple[int, str]] | None = None,
        kept: Callable[[int, Message], None] = lambda company_id, message: None,
    ) -> None:
        self.signalling = signalling
        self.router = router
        self.users = users
        self.store = store
        self.background = background
        self.clock = clock
        # (company id, extension): users with a message no device took yet
        self.waiting: set[tuple[int, str]] = set() if waiting is None else waiting
        self.kept = kept  # told of every message kept (the live events' `chat.message`)

    # -- a phone sends ----------------------------------------------------------------

    def receive(
        self, request: Request, key: TransactionKey, source: Source, sender: SipUser
    ) -> Response | None:
        """An authenticated user's MESSAGE: 202 once stored, then delivered."""
        kind = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind != CONTENT_TYPE:
            refused = make_response(request, 415)
            refused.headers.add("Accept", CONTENT_TYPE)
            return refused
        if len(request.body) > MAX_BYTES:
            return make_response(request, 413)
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            return make_response(request, 400, "Bad Request (the text is not UTF-8)")
        extension = getattr(request.uri, "user", None) or ""
        group = extension.removeprefix(GROUP_PREFIX)
        if group != extension:
            if not group.isdigit() or len(group) > 18:
                return make_response(request, 404)
            self._to_group(request, key, sender, int(group), body)
            return None
        recipient = self.users(sender.company_domain, extension) if extension else None
        if recipient is None or recipient.company_id != sender.company_id:
            return make_response(request, 404)
        if recipient.extension == sender.extension:
            return make_response(request, 400, "Bad Request (a message to yourself)")
        signalling = self.signalling

        def stored(message: object) -> None:
            if not isinstance(message, Message):
                reason = message if isinstance(message, str) else "could not keep it"
                signalling.respond(key, make_response(request, 400, f"Bad Request ({reason})"))
                return
            signalling.respond(key, make_response(request, 202))
            self.kept(sender.company_id, message)
            self._deliver(sender.company_id, recipient, [message], {})

        self.background.run(lambda: self._keep(sender, recipient, body), stored)
        return None

    def _to_group(
        self, request: Request, key: TransactionKey, sender: SipUser, group_id: int, body: str
    ) -> None:
        """A phone's message to a group chat (a reply to one it got): each member's phones
        get it; one who is no member (or no such group) gets 404."""
        signalling, company_id = self.signalling, sender.company_id

        def stored(outcome: object) -> None:
            if not isinstance(outcome, tuple):
                status = 404 if outcome is None else 400
                reason = None if outcome is None else f"Bad Request ({outcome})"
                signalling.respond(key, make_response(request, status, reason))
                return
            copies, name = outcome
            signalling.respond(key, make_response(request, 202))
            self._spread(company_id, sender.company_domain, copies, name)

        def keep() -> tuple[list[Message], str] | str | None:
            try:
                return self.store.keep_group(company_id, group_id, sender.extension, body)
            except NotFound:
                return None
            except Invalid as refused:
                return str(refused)

        self.background.run(keep, stored)

    def _spread(self, company_id: int, domain: str, copies: list[Message], name: str) -> None:
        """A group message's copies: each member told, and delivered to but the writer."""
        for copy in copies:
            self.kept(company_id, copy)
            if copy.recipient == copy.sender:
                continue
            recipient = self.users(domain, copy.recipient)
            if recipient is not None and recipient.company_id == company_id:
                self._deliver(company_id, recipient, [copy], {copy.group_id or 0: name})

    def _keep(self, sender: SipUser, recipient: SipUser, body: str) -> Message | str:
        try:
            return self.store.keep(sender.company_id, sender.extension, recipient.extension, body)
        except Invalid as refused:
            return str(refused)

    # -- the web sends (the message is stored already) -----------------------------------

    def send(
        self, company_id: int, domain: str, messages: list[Message], group_name: str = ""
    ) -> None:
        """Deliver what the web stored: a message, or a group message's copies."""
        if group_name:
            self._spread(company_id, domain, messages, group_name)
            return
        for message in messages:
            recipient = self.users(domain, message.recipient)
            if recipient is not None and recipient.company_id == company_id:
                self.kept(company_id, message)
                self._deliver(company_id, recipient, [message], {})

    # -- delivery -------------------------------------------------------------------------

    def registered(self, user: SipUser) -> None:
        """A device of `user` registered: what waits for them goes out now."""
        key = (user.company_id, user.extension)
        if key not in self.waiting:
            return
        self.waiting.discard(key)  # (put back if nothing takes them)

        def found(waiting: object) -> None:
            if isinstance(waiting, tuple) and waiting[0]:
                self._deliver(user.company_id, user, waiting[0], waiting[1])

        self.background.run(lambda: self.store.waiting(user.company_id, user.extension), found)

    def _deliver(
        self,
        company_id: int,
        recipient: SipUser,
        messages: list[Message],
        groups: Mapping[int, str],
    ) -> None:
        now = self.clock()
        reach = self.router.devices(recipient, now)
        targets = [t for t in (self.router.resolve(d, now) for d in reach.devices) if t]
        if not targets:
            self.waiting.add((company_id, recipient.extension))
            return
        for message in messages:
            sender = self.users(recipient.company_domain, message.sender)
            name = sender.display_name if sender is not None else ""
            outcome = _Outcome(self, company_id, recipient.extension, message.id, len(targets))
            shown = (message.sender, name)
            if message.group_id is not None:  # from the group, so that a reply reaches it
                group = groups.get(message.group_id, "")
                shown = (f"{GROUP_PREFIX}{message.group_id}", f"{name} ({group})")
            for target in targets:
                request = _message_request(
                    target.uri, target.to_uri or target.uri, recipient.company_domain,
                    shown, message.body,
                )  # fmt: skip
                self.signalling.send_request(request, target.destination, outcome.answered)

    def _taken(self, company_id: int, message_id: int) -> None:
        store = self.store
        self.background.run(lambda: store.delivered(company_id, [message_id]))


class _Outcome:
    """How one message's delivery to a user's devices went: the first 2xx marks it taken;
    when every device refused or timed out, it waits for the next registration."""

    __slots__ = ("company_id", "extension", "left", "message_id", "messaging", "taken")

    def __init__(
        self, messaging: Messaging, company_id: int, extension: str, message_id: int, tries: int
    ) -> None:
        self.messaging = messaging
        self.company_id = company_id
        self.extension = extension
        self.message_id = message_id
        self.left = tries
        self.taken = False

    def answered(self, event: Event) -> None:
        if isinstance(event, ResponseReceived):
            status = event.response.status
            if status < 200:
                return
            if 200 <= status < 300 and not self.taken:
                self.taken = True
                self.messaging._taken(self.company_id, self.message_id)
        elif not isinstance(event, (TransactionTimeout, TransportError)):
            return  # (the transaction's end, after its answer)
        self.left -= 1
        if self.left == 0 and not self.taken:
            self.messaging.waiting.add((self.company_id, self.extension))


def _message_request(
    uri: str, to_uri: str, domain: str, sender: tuple[str, str], body: str
) -> Request:
    headers = Headers()
    user, name = sender
    shown = NameAddr(parse_uri(f"sip:{user}@{domain}"), name or None)
    headers.add("Max-Forwards", "70")
    headers.add("From", f"{shown};tag={new_tag()}")
    headers.add("To", f"<{to_uri}>")
    headers.add("Call-ID", new_call_id())
    headers.add("CSeq", "1 MESSAGE")
    headers.add("Content-Type", "text/plain;charset=UTF-8")
    return Request("MESSAGE", parse_uri(uri), headers, body.encode("utf-8"))
