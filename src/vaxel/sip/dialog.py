"""SIP dialogs (P2, RFC 3261 §12): the state two UAs share between transactions.

A `Dialog` is plain data plus the few rules of §12 that act on it: how it
is created on each side, how an in-dialog request is built and routed
(§12.2.1.1, loose and strict routing), how the 2xx ACK is built (§13.2.2.4)
and how in-dialog requests and responses update it (§12.2.1.2, §12.2.2).
It sends nothing: the caller adds the Via and hands the request to the
transaction layer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from vaxel import randomness
from vaxel.sip.errors import LocalProtocolError, RemoteProtocolError
from vaxel.sip.headers import NameAddr, Via, parse_name_addr
from vaxel.sip.message import Headers, Request, Response, make_response
from vaxel.sip.transaction import T1, T2
from vaxel.sip.uri import URI, SipURI

# __init__s (and DialogId's __eq__ and __hash__: it keys the dialog tables) are written
# out: mypyc compiles them, not the dataclass-generated ones.

# Requests whose Contact replaces the remote target (RFC 3261 §12.2, RFC 3311, RFC 6665).
TARGET_REFRESH_METHODS = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY"})


def new_tag() -> str:
    """A From/To tag with the 32 bits of randomness §19.3 asks for, and more."""
    return randomness.token_hex(8)


def new_call_id(host: str | None = None) -> str:
    """A globally unique Call-ID (§8.1.1.4); `host` makes collisions even less likely."""
    value = randomness.token_hex(16)
    return f"{value}@{host}" if host else value


class DialogState(Enum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


@dataclass(frozen=True, slots=True)
class DialogId:
    """§12: Call-ID, local tag and remote tag, as seen from our side."""

    call_id: str
    local_tag: str
    remote_tag: str

    def __init__(self, call_id: str, local_tag: str, remote_tag: str) -> None:
        object.__setattr__(self, "call_id", call_id)
        object.__setattr__(self, "local_tag", local_tag)
        object.__setattr__(self, "remote_tag", remote_tag)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return (
            self.call_id == other.call_id
            and self.local_tag == other.local_tag
            and self.remote_tag == other.remote_tag
        )

    def __hash__(self) -> int:
        return hash((self.call_id, self.local_tag, self.remote_tag))


def request_dialog_id(request: Request) -> DialogId | None:
    """The id of the dialog an incoming request belongs to (None outside a dialog)."""
    local_tag = request.to.tag
    if local_tag is None:
        return None
    return DialogId(request.call_id, local_tag, request.from_.tag or "")


def response_dialog_id(response: Response) -> DialogId | None:
    """The id of the dialog an incoming response to our request belongs to."""
    remote_tag = response.to.tag
    if remote_tag is None:
        return None
    return DialogId(response.call_id, response.from_.tag or "", remote_tag)


def _without_tag(addr: NameAddr) -> NameAddr:
    addr = addr.copy()
    addr.params.remove("tag")
    return addr


def _with_tag(addr: NameAddr, tag: str) -> str:
    addr = addr.copy()
    if tag:
        addr.params.set("tag", tag)
    return str(addr)


def _is_loose(route: NameAddr) -> bool:
    return isinstance(route.uri, SipURI) and "lr" in route.uri.params


@dataclass(slots=True)
class Dialog:
    """One dialog's state (§12.1): ids, sequence numbers, URIs, target and route set."""

    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: NameAddr
    remote_uri: NameAddr
    remote_target: URI
    route_set: list[NameAddr] = field(default_factory=list)
    local_seq: int | None = None
    remote_seq: int | None = None
    secure: bool = False
    local_contact: NameAddr | None = None
    state: DialogState = DialogState.EARLY

    def __init__(
        self,
        call_id: str,
        local_tag: str,
        remote_tag: str,
        local_uri: NameAddr,
        remote_uri: NameAddr,
        remote_target: URI,
        route_set: list[NameAddr] | None = None,
        local_seq: int | None = None,
        remote_seq: int | None = None,
        secure: bool = False,
        local_contact: NameAddr | None = None,
        state: DialogState = DialogState.EARLY,
    ) -> None:
        self.call_id = call_id
        self.local_tag = local_tag
        self.remote_tag = remote_tag
        self.local_uri = local_uri
        self.remote_uri = remote_uri
        self.remote_target = remote_target
        self.route_set = [] if route_set is None else route_set
        self.local_seq = local_seq
        self.remote_seq = remote_seq
        self.secure = secure
        self.local_contact = local_contact
        self.state = state

    @property
    def id(self) -> DialogId:
        return DialogId(self.call_id, self.local_tag, self.remote_tag)

    # -- creation (§12.1) ---------------------------------------------------

    @classmethod
    def from_uac(
        cls, request: Request, response: Response, *, secure: bool | None = None
    ) -> Dialog:
        """The UAC's dialog, from its request and a 1xx (early) or 2xx response (§12.1.2)."""
        remote_tag = response.to.tag
        if remote_tag is None or not 101 <= response.status < 300:
            raise RemoteProtocolError("only a 101-299 response with a To tag creates a dialog")
        contacts = response.contacts
        if contacts:
            target = contacts[0].uri.copy()
        elif response.status < 200:
            target = request.uri.copy()  # many 18x carry no Contact; the 2xx will
        else:
            raise RemoteProtocolError("2xx without Contact creates no dialog")
        request_contacts = request.contacts
        return cls(
            call_id=request.call_id,
            local_tag=request.from_.tag or "",
            remote_tag=remote_tag,
            local_uri=_without_tag(request.from_),
            remote_uri=_without_tag(request.to),
            remote_target=target,
            route_set=[r.copy() for r in reversed(response.name_addrs("Record-Route"))],
            local_seq=request.cseq.number,
            secure=request.uri.scheme == "sips" if secure is None else secure,
            local_contact=request_contacts[0].copy() if request_contacts else None,
            state=DialogState.CONFIRMED if response.status >= 200 else DialogState.EARLY,
        )

    @classmethod
    def from_uas(
        cls,
        request: Request,
        local_tag: str,
        local_contact: NameAddr | str,
        *,
        secure: bool | None = None,
    ) -> Dialog:
        """The UAS's dialog, created when it answers `request` with tag `local_tag` (§12.1.1).

        It starts early; `confirm()` it when the 2xx goes out.
        """
        contacts = request.contacts
        if not contacts:
            raise RemoteProtocolError("a dialog-creating request needs a Contact")
        if isinstance(local_contact, str):
            local_contact = parse_name_addr(local_contact)
        return cls(
            call_id=request.call_id,
            local_tag=local_tag,
            remote_tag=request.from_.tag or "",
            local_uri=_without_tag(request.to),
            remote_uri=_without_tag(request.from_),
            remote_target=contacts[0].uri.copy(),
            route_set=[r.copy() for r in request.name_addrs("Record-Route")],
            remote_seq=request.cseq.number,
            secure=request.uri.scheme == "sips" if secure is None else secure,
            local_contact=local_contact,
        )

    def confirm(self) -> None:
        if self.state is DialogState.EARLY:
            self.state = DialogState.CONFIRMED

    def terminate(self) -> None:
        self.state = DialogState.TERMINATED

    # -- sending (§12.2.1.1) ------------------------------------------------

    def create_request(
        self,
        method: str,
        *,
        via: Via | str | None = None,
        body: bytes = b"",
        content_type: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> Request:
        """A new in-dialog request with the next local CSeq.

        Give `via` (with a fresh branch) here or insert it before sending.
        ACK is built by `ack_for`, CANCEL by the transaction layer.
        """
        if method in ("ACK", "CANCEL"):
            raise LocalProtocolError(f"{method} does not take a new CSeq; see ack_for / cancel")
        if self.state is DialogState.TERMINATED:
            raise LocalProtocolError("the dialog is terminated")
        self.local_seq = 1 if self.local_seq is None else self.local_seq + 1
        return self._build(method, self.local_seq, via, body, content_type, headers)

    def ack_for(
        self,
        invite: Request,
        response: Response,
        *,
        via: Via | str | None = None,
        body: bytes = b"",
        content_type: str | None = None,
    ) -> Request:
        """The ACK of a 2xx to `invite` (§13.2.2.4): the INVITE's CSeq number, method ACK.

        Feed the 2xx to `receive_response` first, so the route set and the
        remote target are the ones the 2xx set.
        """
        if invite.method != "INVITE" or not 200 <= response.status < 300:
            raise LocalProtocolError("ack_for acknowledges a 2xx to an INVITE")
        if response.cseq.number != invite.cseq.number:
            raise LocalProtocolError("the response does not answer this INVITE")
        credentials = [
            (name, value)
            for name in ("Authorization", "Proxy-Authorization")
            for value in invite.headers.get_all(name)
        ]
        return self._build("ACK", invite.cseq.number, via, body, content_type, credentials)

    def _route(self) -> tuple[URI, list[str]]:
        """Request-URI and Route values: loose routing, or strict when the first hop lacks lr."""
        if not self.route_set:
            return self.remote_target.copy(), []
        first = self.route_set[0]
        if _is_loose(first):
            return self.remote_target.copy(), [str(route) for route in self.route_set]
        uri = first.uri.copy()
        if isinstance(uri, SipURI):  # §12.2.1.1: drop what a Request-URI may not carry
            uri.headers = []
            uri.params.remove("method")
        routes = [str(route) for route in self.route_set[1:]]
        routes.append(f"<{self.remote_target}>")
        return uri, routes

    def _build(
        self,
        method: str,
        cseq: int,
        via: Via | str | None,
        body: bytes,
        content_type: str | None,
        extra: Iterable[tuple[str, str]],
    ) -> Request:
        uri, routes = self._route()
        headers = Headers()
        if via is not None:
            headers.add("Via", str(via))
        headers.add("Max-Forwards", "70")
        for route in routes:
            headers.add("Route", route)
        headers.add("From", _with_tag(self.local_uri, self.local_tag))
        headers.add("To", _with_tag(self.remote_uri, self.remote_tag))
        headers.add("Call-ID", self.call_id)
        headers.add("CSeq", f"{cseq} {method}")
        if method in TARGET_REFRESH_METHODS and self.local_contact is not None:
            headers.add("Contact", str(self.local_contact))
        for name, value in extra:
            headers.add(name, value)
        if body:
            headers.add("Content-Type", content_type or "application/sdp")
        return Request(method, uri, headers, body)

    # -- receiving (§12.2.1.2, §12.2.2) ------------------------------------

    def receive_request(self, request: Request) -> Response | None:
        """Apply an in-dialog request; return the error response to send, if any.

        A CSeq lower than the last one seen is out of order: 500 (§12.2.2).
        """
        if request.method in ("ACK", "CANCEL"):
            return None
        number = request.cseq.number
        if self.remote_seq is not None and number < self.remote_seq:
            return make_response(request, 500, "Out of Order CSeq")
        self.remote_seq = number
        self._follow(request.method, request)
        return None

    def receive_response(self, request: Request, response: Response) -> None:
        """Apply a response to a request we sent in this dialog (or that created it)."""
        status = response.status
        if status in (408, 481):  # §12.2.1.2: the dialog is gone on the far side
            self.state = DialogState.TERMINATED
            return
        invite = request.method == "INVITE"
        if status >= 300:
            if invite and self.state is DialogState.EARLY:  # §12.3
                self.state = DialogState.TERMINATED
            return
        if not 200 <= status < 300:
            return
        if invite and self.state is DialogState.EARLY:
            # §13.2.2.4: the 2xx confirms the dialog and sets its route set.
            self.state = DialogState.CONFIRMED
            self.route_set = [r.copy() for r in reversed(response.name_addrs("Record-Route"))]
        self._follow(request.method, response)

    def _follow(self, method: str, message: Request | Response) -> None:
        """What an accepted request does to the dialog: a target refresh takes
        the peer's new Contact (§12.2), a BYE ends it."""
        if method in TARGET_REFRESH_METHODS:
            contacts = message.contacts
            if contacts:
                self.remote_target = contacts[0].uri.copy()
        if method == "BYE":
            self.state = DialogState.TERMINATED


class AckWait:
    """A UAS's 2xx to an INVITE, resent until its ACK arrives (RFC 3261 §13.3.1.4).

    The transaction layer lets go of an INVITE at its 2xx (RFC 6026), so the
    dialog resends it: first after T1, then at doubling intervals up to T2,
    and gives up 64*T1 after the first send, when the UAS ends the dialog
    with a BYE. Sans-I/O: `interval` says when to call `due()` next.
    """

    __slots__ = ("elapsed", "interval", "limit", "response", "t2")

    def __init__(self, response: Response, *, t1: float = T1, t2: float = T2) -> None:
        self.response = response
        self.interval = t1
        self.elapsed = 0.0
        self.limit = 64 * t1
        self.t2 = t2

    def due(self) -> bool:
        """The timer fired: True to resend the 2xx and wait `interval` again, False to give up
        (64*T1 after the first send: the last wait is cut short to end there)."""
        self.elapsed += self.interval
        left = self.limit - self.elapsed
        if left <= 1e-9:
            return False
        self.interval = min(2 * self.interval, self.t2, left)
        return True
