"""SIP transactions (P2; RFC 3261 §17, updated by RFC 6026), sans-I/O.

The four state machines live in one transition table, `TRANSITIONS`:
(machine, state, input) -> (next state, action). Inputs are received
responses ("1xx", "2xx", "3xx-6xx"), received requests ("request", "ack"),
responses from the TU ("tu_1xx", ...) and timer names ("A" .. "M"). An
input with no row is absorbed when it comes from the network and is a
`LocalProtocolError` when it comes from the TU.

Time is passed in; the layer keeps one heap of timer deadlines and tells
the caller, through `next_deadline()`, when to call `timeout()` again.
Timers are cancelled lazily: a heap entry only counts while its token is
still the transaction's current one for that timer.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from vaxel import randomness
from vaxel.sip.errors import LocalProtocolError, RemoteProtocolError, SipError
from vaxel.sip.events import (
    AckReceived,
    CancelReceived,
    Event,
    RequestReceived,
    ResponseReceived,
    Send,
    StrayResponse,
    TransactionKey,
    TransactionTerminated,
    TransactionTimeout,
    TransportError,
)
from vaxel.sip.headers import Via
from vaxel.sip.message import Headers, Request, Response, make_response

# __init__s are written out: mypyc compiles them, not the dataclass-generated ones.

MAGIC_COOKIE = "z9hG4bK"
# RFC 3261 §17.1.1.1: the round-trip estimate, the longest retransmission interval, and how
# long a message may stay in the network. The dialog layer's 2xx retransmission uses them too.
T1 = 0.5
T2 = 4.0
T4 = 5.0
TRYING_DELAY = 0.2  # seconds the TU has to answer an INVITE before we send 100 (§17.2.1)


def new_branch() -> str:
    """A Via branch that is unique in space and time and RFC 3261 compliant (§8.1.1.7)."""
    return MAGIC_COOKIE + randomness.token_hex(10)


class Machine(Enum):
    INVITE_CLIENT = "ict"  # §17.1.1
    NON_INVITE_CLIENT = "nict"  # §17.1.2
    INVITE_SERVER = "ist"  # §17.2.1
    NON_INVITE_SERVER = "nist"  # §17.2.2


class State(Enum):
    CALLING = "Calling"
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    ACCEPTED = "Accepted"  # RFC 6026
    TERMINATED = "Terminated"


_ICT, _NICT, _IST, _NIST = Machine
_CALLING, _TRYING, _PROCEEDING, _COMPLETED, _CONFIRMED, _ACCEPTED, _TERMINATED = State
_FINALS = ("2xx", "3xx-6xx")

# (machine, state, input) -> (next state, action). Actions are `_do_<name>` methods.
TRANSITIONS: dict[tuple[Machine, State, str], tuple[State, str]] = {
    # INVITE client, RFC 3261 figure 5 with RFC 6026 figure 5 (Accepted).
    (_ICT, _CALLING, "A"): (_CALLING, "retransmit_request"),
    (_ICT, _CALLING, "B"): (_TERMINATED, "timeout"),
    (_ICT, _CALLING, "1xx"): (_PROCEEDING, "proceed"),
    (_ICT, _CALLING, "2xx"): (_ACCEPTED, "accepted"),
    (_ICT, _CALLING, "3xx-6xx"): (_COMPLETED, "acknowledge"),
    (_ICT, _PROCEEDING, "1xx"): (_PROCEEDING, "pass_response"),
    (_ICT, _PROCEEDING, "2xx"): (_ACCEPTED, "accepted"),
    (_ICT, _PROCEEDING, "3xx-6xx"): (_COMPLETED, "acknowledge"),
    (_ICT, _PROCEEDING, "B"): (_TERMINATED, "timeout"),  # only re-armed by a CANCEL (§9.1)
    (_ICT, _COMPLETED, "3xx-6xx"): (_COMPLETED, "resend_ack"),
    (_ICT, _COMPLETED, "D"): (_TERMINATED, "nothing"),
    (_ICT, _ACCEPTED, "2xx"): (_ACCEPTED, "pass_response"),
    (_ICT, _ACCEPTED, "M"): (_TERMINATED, "nothing"),
    # Non-INVITE client, figure 6.
    (_NICT, _TRYING, "E"): (_TRYING, "retransmit_request"),
    (_NICT, _TRYING, "F"): (_TERMINATED, "timeout"),
    (_NICT, _TRYING, "1xx"): (_PROCEEDING, "pass_response"),
    (_NICT, _TRYING, "2xx"): (_COMPLETED, "complete_client"),
    (_NICT, _TRYING, "3xx-6xx"): (_COMPLETED, "complete_client"),
    (_NICT, _PROCEEDING, "E"): (_PROCEEDING, "retransmit_request"),
    (_NICT, _PROCEEDING, "F"): (_TERMINATED, "timeout"),
    (_NICT, _PROCEEDING, "1xx"): (_PROCEEDING, "pass_response"),
    (_NICT, _PROCEEDING, "2xx"): (_COMPLETED, "complete_client"),
    (_NICT, _PROCEEDING, "3xx-6xx"): (_COMPLETED, "complete_client"),
    (_NICT, _COMPLETED, "K"): (_TERMINATED, "nothing"),
    # INVITE server, figure 7 with RFC 6026 figure 7 (Accepted).
    (_IST, _PROCEEDING, "request"): (_PROCEEDING, "resend_response"),
    (_IST, _PROCEEDING, "tu_1xx"): (_PROCEEDING, "send_response"),
    (_IST, _PROCEEDING, "trying"): (_PROCEEDING, "send_trying"),
    (_IST, _PROCEEDING, "tu_2xx"): (_ACCEPTED, "accept"),
    (_IST, _PROCEEDING, "tu_3xx-6xx"): (_COMPLETED, "reject"),
    (_IST, _COMPLETED, "request"): (_COMPLETED, "resend_response"),
    (_IST, _COMPLETED, "G"): (_COMPLETED, "retransmit_response"),
    (_IST, _COMPLETED, "H"): (_TERMINATED, "timeout"),
    (_IST, _COMPLETED, "ack"): (_CONFIRMED, "confirm"),
    (_IST, _CONFIRMED, "I"): (_TERMINATED, "nothing"),
    (_IST, _ACCEPTED, "request"): (_ACCEPTED, "nothing"),
    (_IST, _ACCEPTED, "ack"): (_ACCEPTED, "pass_ack"),
    (_IST, _ACCEPTED, "tu_2xx"): (_ACCEPTED, "send_response"),
    (_IST, _ACCEPTED, "L"): (_TERMINATED, "nothing"),
    # Non-INVITE server, figure 8.
    (_NIST, _TRYING, "request"): (_TRYING, "nothing"),
    (_NIST, _TRYING, "tu_1xx"): (_PROCEEDING, "send_response"),
    (_NIST, _TRYING, "tu_2xx"): (_COMPLETED, "complete_server"),
    (_NIST, _TRYING, "tu_3xx-6xx"): (_COMPLETED, "complete_server"),
    (_NIST, _PROCEEDING, "request"): (_PROCEEDING, "resend_response"),
    (_NIST, _PROCEEDING, "tu_1xx"): (_PROCEEDING, "send_response"),
    (_NIST, _PROCEEDING, "tu_2xx"): (_COMPLETED, "complete_server"),
    (_NIST, _PROCEEDING, "tu_3xx-6xx"): (_COMPLETED, "complete_server"),
    (_NIST, _COMPLETED, "request"): (_COMPLETED, "resend_response"),
    (_NIST, _COMPLETED, "J"): (_TERMINATED, "nothing"),
}


def status_class(status: int) -> str:
    """The table input for a response status."""
    if status < 200:
        return "1xx"
    return "2xx" if status < 300 else "3xx-6xx"


@dataclass(eq=False, slots=True)
class Transaction:
    """One transaction's state; the layer drives it through `TRANSITIONS`."""

    key: TransactionKey
    machine: Machine
    state: State
    # Client transactions keep their request (retransmission, ACK, CANCEL);
    # server ones never read it again, so they drop it: tens of thousands of
    # completed transactions linger for Timer J, and each parsed request is
    # many objects for the garbage collector to walk.
    request: Request | None
    peer: Any  # the I/O layer's opaque address
    reliable: bool
    last_response: Response | None = None
    ack: Request | None = None  # the ACK an INVITE client sent for a non-2xx
    interval: float = 0.0  # current retransmission interval (A, E, G)
    to_tag: str | None = None  # the To tag our responses carry (server)
    request_to_tag: str | None = None  # for RFC 2543 matching
    trying: Request | None = None  # an INVITE whose 100 waits for the TU's own answer
    cancel_pending: bool = False
    cancel_sent: bool = False
    cancel_reason: str | None = None  # a Reason header for the CANCEL (RFC 3326)
    timers: dict[str, int] = field(default_factory=dict)
    due_now: list[str] = field(default_factory=list)

    def __init__(
        self,
        key: TransactionKey,
        machine: Machine,
        state: State,
        request: Request | None,
        peer: Any,
        reliable: bool,
        last_response: Response | None = None,
        ack: Request | None = None,
        interval: float = 0.0,
        to_tag: str | None = None,
        request_to_tag: str | None = None,
        trying: Request | None = None,
        cancel_pending: bool = False,
        cancel_sent: bool = False,
        cancel_reason: str | None = None,
        timers: dict[str, int] | None = None,
        due_now: list[str] | None = None,
    ) -> None:
        self.key = key
        self.machine = machine
        self.state = state
        self.request = request
        self.peer = peer
        self.reliable = reliable
        self.last_response = last_response
        self.ack = ack
        self.interval = interval
        self.to_tag = to_tag
        self.request_to_tag = request_to_tag
        self.trying = trying
        self.cancel_pending = cancel_pending
        self.cancel_sent = cancel_sent
        self.cancel_reason = cancel_reason
        self.timers = {} if timers is None else timers
        self.due_now = [] if due_now is None else due_now


def _sent_by(via: Via) -> str:
    host = via.host.lower()
    return host if via.port is None else f"{host}:{via.port}"


def client_key(message: Request | Response) -> TransactionKey:
    """§17.1.3: top Via branch and CSeq method."""
    return TransactionKey("client", message.via.branch or "", message.cseq.method)


def server_key(request: Request, peer: object = None) -> TransactionKey:
    """§17.2.3: branch, sent-by and method (INVITE for ACK); RFC 2543 fields without a cookie.

    With `peer` (where the request came from) the key also names the source,
    so a request from elsewhere that reuses a branch can never join, or read
    the responses of, someone else's transaction.
    """
    via = request.via
    method = "INVITE" if request.method == "ACK" else request.method
    branch = via.branch
    if branch and branch.startswith(MAGIC_COOKIE):
        sent_by = _sent_by(via) if peer is None else f"{_sent_by(via)}|{peer}"
        return TransactionKey("server", branch, method, sent_by)
    # RFC 2543: Request-URI, From tag, Call-ID, CSeq number and top Via; the
    # To tag is compared separately because the ACK carries the response's tag.
    top_via = request.headers.values("Via")[0]
    fields = (str(request.uri), request.from_.tag or "", request.call_id, request.cseq.number)
    return TransactionKey("server", "rfc2543|{}|{}|{}|{}|".format(*fields) + top_via, method)


def _same_hop_request(method: str, request: Request, to: str) -> Request:
    """ACK and CANCEL built by the transaction layer travel exactly as the
    request did: its top Via only, its Route set, From, Call-ID and CSeq
    number; only the method and (for an ACK) the To differ."""
    headers = Headers()
    headers.add("Via", request.headers.values("Via")[0])
    headers.add("Max-Forwards", "70")
    for route in request.headers.get_all("Route"):
        headers.add("Route", route)
    headers.add("From", request.headers.get("From") or "")
    headers.add("To", to)
    headers.add("Call-ID", request.headers.get("Call-ID") or "")
    headers.add("CSeq", f"{request.cseq.number} {method}")
    return Request(method, request.uri.copy(), headers)


def build_ack(invite: Request, response: Response) -> Request:
    """The ACK for a non-2xx final response (§17.1.1.3): To from the response."""
    return _same_hop_request("ACK", invite, response.headers.get("To") or "")


def build_cancel(request: Request, reason: str | None = None) -> Request:
    """The CANCEL of a pending request (§9.1), with an RFC 3326 Reason if given."""
    cancel = _same_hop_request("CANCEL", request, request.headers.get("To") or "")
    if reason:
        cancel.headers.add("Reason", reason)
    return cancel


def _with_to_tag(response: Response, tag: str) -> None:
    headers = Headers()
    for name, value in response.headers:
        headers.add(name, f"{value};tag={tag}" if name == "To" else value)
    response.headers = headers
    response.invalidate()


class TransactionLayer:
    """Client and server transactions of one SIP element (RFC 3261 §17).

    Feed it what the network delivers (`receive`), what the TU wants
    (`send_request`, `respond`, `cancel`) and the clock (`timeout`); act on
    the events it returns.
    """

    def __init__(
        self,
        *,
        t1: float = T1,
        t2: float = T2,
        t4: float = T4,
        timer_d: float = 32.0,
        send_trying: bool = True,
    ) -> None:
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
        self.timer_d = timer_d
        # §17.2.1: the server sends a 100 when the TU has not answered within
        # 200 ms. A B2BUA relays the callee's 180 within a few ms, so most
        # INVITEs never need one: a message less to build, send and parse.
        self.send_trying = send_trying
        self._client: dict[TransactionKey, Transaction] = {}
        self._server: dict[TransactionKey, Transaction] = {}
        self._by_branch: dict[tuple[str, str], TransactionKey] = {}  # CANCEL targets
        self._heap: list[tuple[float, int, Transaction, str]] = []
        self._token = 0

    # -- queries -----------------------------------------------------------

    def get(self, key: TransactionKey) -> Transaction | None:
        """The live transaction for `key`, or None once it has terminated."""
        return (self._server if key.role == "server" else self._client).get(key)

    def state(self, key: TransactionKey) -> State:
        txn = self.get(key)
        return State.TERMINATED if txn is None else txn.state

    def __len__(self) -> int:
        return len(self._client) + len(self._server)

    # -- input from the network ---------------------------------------------

    def receive(
        self, message: Request | Response, now: float, *, reliable: bool, peer: object
    ) -> list[Event]:
        """Handle one parsed message from the network."""
        if isinstance(message, Response):
            return self._receive_response(message, now, peer)
        return self._receive_request(message, now, reliable, peer)

    def repeat(self, key: TransactionKey, now: float) -> list[Event] | None:
        """A request of server transaction `key` came again (the I/O layer knew its
        bytes): what a matched retransmission gets, or None if the transaction is over."""
        txn = self._server.get(key)
        if txn is None:
            return None
        return self._step(txn, "request", now)

    def _receive_response(self, response: Response, now: float, peer: object) -> list[Event]:
        try:
            if len(response.vias) != 1:  # §18.1.2: not for us
                return []
            key = client_key(response)
        except SipError:
            return []  # a response we cannot read is dropped (§8.1.3.3)
        txn = self._client.get(key)
        if txn is None:
            return [StrayResponse(response, peer)]
        return self._step(txn, status_class(response.status), now, response)

    def _receive_request(
        self, request: Request, now: float, reliable: bool, peer: object
    ) -> list[Event]:
        try:
            _ = request.to, request.from_, request.call_id
            if request.cseq.method != request.method:
                raise RemoteProtocolError("CSeq method does not match the request method")
            key = server_key(request, peer)
        except RemoteProtocolError as error:
            return self._reject_stateless(request, error, peer)
        txn = self._server.get(key)
        if txn is not None and not self._rfc2543_to_tag_matches(txn, request):
            txn = None
        if request.method == "ACK":
            if txn is None:
                return [AckReceived(request, None, peer)]
            return self._step(txn, "ack", now, request)
        if txn is not None:
            return self._step(txn, "request", now, request)
        if request.method == "CANCEL":
            return self._receive_cancel(request, key, now, reliable, peer)
        invite = request.method == "INVITE"
        txn = Transaction(
            key,
            _IST if invite else _NIST,
            _PROCEEDING if invite else _TRYING,
            None,
            peer,
            reliable,
            request_to_tag=request.to.tag,
        )
        self._server[key] = txn
        self._by_branch[(key.branch, key.sent_by)] = key
        events: list[Event] = []
        if invite and self.send_trying:
            txn.trying = request
            self._arm(txn, "trying", TRYING_DELAY, now)
        events.append(RequestReceived(request, key))
        return events

    def _receive_cancel(
        self, cancel: Request, key: TransactionKey, now: float, reliable: bool, peer: object
    ) -> list[Event]:
        txn = Transaction(key, _NIST, _TRYING, None, peer, reliable)
        self._server[key] = txn
        # §9.2: the target is the request with the same branch and sent-by
        # whose method is anything but CANCEL or ACK.
        target_key = self._by_branch.get((key.branch, key.sent_by))
        target = self._server.get(target_key) if target_key else None
        if target is not None:
            # §9.2: the 200 carries the tag the request's responses carry;
            # when the TU set none yet, pick it now and its 487 gets it too.
            if target.request_to_tag is None and target.to_tag is None:
                target.to_tag = randomness.token_hex(8)
            response = make_response(cancel, 200, to_tag=target.to_tag)
        else:
            response = make_response(cancel, 481, to_tag=randomness.token_hex(8))
        events = self._step(txn, "tu_2xx" if target else "tu_3xx-6xx", now, response)
        events.append(CancelReceived(cancel, target.key if target else None))
        return events

    @staticmethod
    def _rfc2543_to_tag_matches(txn: Transaction, request: Request) -> bool:
        if txn.key.branch.startswith(MAGIC_COOKIE):
            return True
        tag = request.to.tag
        if request.method == "ACK":
            return tag == (txn.to_tag or txn.request_to_tag)
        return tag == txn.request_to_tag

    @staticmethod
    def _reject_stateless(
        request: Request, error: RemoteProtocolError, peer: object
    ) -> list[Event]:
        if request.method == "ACK":
            return []
        try:
            request.via  # noqa: B018 - a response without a Via cannot be routed
            response = make_response(request, error.status, error.reason)
        except SipError:
            return []
        for name, value in error.headers:
            response.headers.add(name, value)
        return [Send(response, peer)]

    # -- input from the TU --------------------------------------------------

    def send_request(
        self, request: Request, now: float, *, reliable: bool, peer: object
    ) -> tuple[TransactionKey, list[Event]]:
        """Start a client transaction; the request's top Via must carry a fresh branch."""
        if request.method == "ACK":
            raise LocalProtocolError("ACK is not a transaction; send it directly")
        branch = request.via.branch
        if not branch or not branch.startswith(MAGIC_COOKIE):
            raise LocalProtocolError("the top Via needs a branch starting with z9hG4bK")
        key = client_key(request)
        if key in self._client:
            raise LocalProtocolError(f"a client transaction with branch {branch} exists")
        invite = request.method == "INVITE"
        txn = Transaction(
            key,
            _ICT if invite else _NICT,
            _CALLING if invite else _TRYING,
            request,
            peer,
            reliable,
            interval=self.t1,
        )
        self._client[key] = txn
        if not reliable:
            self._arm(txn, "A" if invite else "E", self.t1, now)
        self._arm(txn, "B" if invite else "F", 64 * self.t1, now)
        return key, [Send(request, peer)]

    def respond(self, key: TransactionKey, response: Response, now: float) -> list[Event]:
        """Send a response on server transaction `key`.

        The first To tag the TU sets is remembered and added to the later
        responses of the transaction that lack one (except 100).
        """
        txn = self._server.get(key)
        if txn is None:
            raise LocalProtocolError(f"no server transaction {key}")
        if txn.trying is not None:  # the TU answered in time: no 100 needed
            txn.trying = None
            self._disarm(txn, "trying")
        tag = response.to.tag
        if tag is not None:
            txn.to_tag = txn.to_tag or tag
        elif txn.to_tag and response.status != 100 and txn.request_to_tag is None:
            _with_to_tag(response, txn.to_tag)
        return self._step(txn, "tu_" + status_class(response.status), now, response, strict=True)

    def cancel(self, key: TransactionKey, now: float, *, reason: str | None = None) -> list[Event]:
        """CANCEL a pending INVITE (§9.1), once a provisional response came back.

        Before that the CANCEL is remembered and sent with the first 1xx;
        after a final response there is nothing left to cancel. `reason` is
        the value of an RFC 3326 Reason header ("completed elsewhere").
        """
        txn = self._client.get(key)
        if txn is None:
            return []
        if txn.machine is not _ICT:
            raise LocalProtocolError("only INVITE client transactions are cancelled")
        txn.cancel_reason = reason
        if txn.state is _CALLING:
            txn.cancel_pending = True
            return []
        if txn.state is _PROCEEDING and not txn.cancel_sent:
            return self._send_cancel(txn, now)
        return []

    def transport_error(self, key: TransactionKey, now: float) -> list[Event]:
        """The I/O layer failed to send for `key` (§17.1.4, §17.2.4): end the transaction."""
        txn = self.get(key)
        if txn is None:
            return []
        return [TransportError(key), *self._terminate(txn)]

    def peer_failed(self, peer: object, now: float) -> list[Event]:
        """The flow to `peer` failed (its connection closed, RFC 5626 §4.4): every client
        transaction sent to it ends with a transport error, as a send that failed does,
        instead of waiting for Timer B or F."""
        events: list[Event] = []
        for key, txn in list(self._client.items()):
            if txn.peer == peer:
                events.extend(self.transport_error(key, now))
        return events

    # -- the clock ------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When `timeout()` must next be called, or None if no timer runs."""
        heap = self._heap
        while heap and not self._live(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def timeout(self, now: float) -> list[Event]:
        """Fire every timer due at `now`, earliest first."""
        events: list[Event] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if self._live(entry):
                _, _, txn, name = entry
                del txn.timers[name]
                events += self._step(txn, name, now)
        return events

    @staticmethod
    def _live(entry: tuple[float, int, Transaction, str]) -> bool:
        _, token, txn, name = entry
        return txn.timers.get(name) == token

    def _arm(self, txn: Transaction, name: str, delay: float, now: float) -> None:
        if delay <= 0:  # reliable transports: D, I, J, K are zero (§17)
            txn.timers.pop(name, None)
            txn.due_now.append(name)
            return
        self._token += 1
        txn.timers[name] = self._token
        heapq.heappush(self._heap, (now + delay, self._token, txn, name))

    @staticmethod
    def _disarm(txn: Transaction, *names: str) -> None:
        for name in names:
            txn.timers.pop(name, None)

    # -- the state machine ----------------------------------------------------

    def _step(
        self,
        txn: Transaction,
        inp: str,
        now: float,
        message: Request | Response | None = None,
        *,
        strict: bool = False,
    ) -> list[Event]:
        row = TRANSITIONS.get((txn.machine, txn.state, inp))
        if row is None:
            if strict:
                raise LocalProtocolError(
                    f"cannot take {inp} in {txn.machine.name} state {txn.state.value}"
                )
            return []
        next_state, action = row
        txn.state = next_state
        events: list[Event] = getattr(self, "_do_" + action)(txn, message, now)
        if next_state is _TERMINATED:
            events += self._terminate(txn)
        while txn.due_now and txn.state is not _TERMINATED:
            events += self._step(txn, txn.due_now.pop(0), now)
        return events

    def _terminate(self, txn: Transaction) -> list[Event]:
        txn.state = _TERMINATED
        txn.timers.clear()
        txn.due_now.clear()
        key = txn.key
        if key.role == "client":
            self._client.pop(key, None)
        else:
            self._server.pop(key, None)
            if self._by_branch.get((key.branch, key.sent_by)) == key:
                del self._by_branch[(key.branch, key.sent_by)]
        return [TransactionTerminated(key)]

    # -- actions (one per table cell kind) ----------------------------------------

    def _do_nothing(self, txn: Transaction, message: object, now: float) -> list[Event]:
        return []

    def _do_timeout(self, txn: Transaction, message: object, now: float) -> list[Event]:
        return [TransactionTimeout(txn.key)]

    def _do_retransmit_request(self, txn: Transaction, message: object, now: float) -> list[Event]:
        if txn.machine is _ICT:  # Timer A doubles without a cap
            txn.interval *= 2
            self._arm(txn, "A", txn.interval, now)
        else:  # Timer E doubles up to T2, and is T2 once a 1xx came
            proceeding = txn.state is _PROCEEDING
            txn.interval = self.t2 if proceeding else min(2 * txn.interval, self.t2)
            self._arm(txn, "E", txn.interval, now)
        assert txn.request is not None
        return [Send(txn.request, txn.peer)]

    def _do_pass_response(self, txn: Transaction, response: Response, now: float) -> list[Event]:
        return [ResponseReceived(response, txn.key)]

    def _do_proceed(self, txn: Transaction, response: Response, now: float) -> list[Event]:
        self._disarm(txn, "A", "B")
        events: list[Event] = [ResponseReceived(response, txn.key)]
        if txn.cancel_pending:
            events += self._send_cancel(txn, now)
        return events

    def _do_accepted(self, txn: Transaction, response: Response, now: float) -> list[Event]:
        self._disarm(txn, "A", "B")
        txn.request = None  # answered: never sent again (the lingering states keep little)
        self._arm(txn, "M", 64 * self.t1, now)
        return [ResponseReceived(response, txn.key)]

    def _do_acknowledge(self, txn: Transaction, response: Response, now: float) -> list[Event]:
        self._disarm(txn, "A", "B")
        assert txn.request is not None
        txn.ack = build_ack(txn.request, response)
        txn.request = None
        self._arm(txn, "D", 0 if txn.reliable else self.timer_d, now)
        return [Send(txn.ack, txn.peer), ResponseReceived(response, txn.key)]

    def _do_resend_ack(self, txn: Transaction, response: Response, now: float) -> list[Event]:
        assert txn.ack is not None
        return [Send(txn.ack, txn.peer)]

    def _do_complete_client(self, txn: Transaction, response: Response, now: float) -> list[Event]:
        self._disarm(txn, "E", "F")
        txn.request = None
        self._arm(txn, "K", 0 if txn.reliable else self.t4, now)
        return [ResponseReceived(response, txn.key)]

    def _do_send_response(self, txn: Transaction, response: Response, now: float) -> list[Event]:
        # Kept to answer retransmissions; in Accepted the TU retransmits its 2xx itself
        # (RFC 6026), and the transaction lingers 32 s: it keeps nothing.
        txn.last_response = None if txn.state is _ACCEPTED else response
        return [Send(response, txn.peer)]

    def _do_send_trying(self, txn: Transaction, message: object, now: float) -> list[Event]:
        request, txn.trying = txn.trying, None
        if request is None or txn.last_response is not None:
            return []
        return self._do_send_response(txn, make_response(request, 100), now)

    def _do_resend_response(self, txn: Transaction, message: object, now: float) -> list[Event]:
        if txn.last_response is None:
            return []
        return [Send(txn.last_response, txn.peer)]

    def _do_accept(self, txn: Transaction, response: Response, now: float) -> list[Event]:
        self._arm(txn, "L", 64 * self.t1, now)
        return self._do_send_response(txn, response, now)

    def _do_reject(self, txn: Transaction, response: Response, now: float) -> list[Event]:
        if not txn.reliable:
            txn.interval = self.t1
            self._arm(txn, "G", self.t1, now)
        self._arm(txn, "H", 64 * self.t1, now)
        return self._do_send_response(txn, response, now)

    def _do_retransmit_response(self, txn: Transaction, message: object, now: float) -> list[Event]:
        txn.interval = min(2 * txn.interval, self.t2)
        self._arm(txn, "G", txn.interval, now)
        assert txn.last_response is not None
        return [Send(txn.last_response, txn.peer)]

    def _do_confirm(self, txn: Transaction, ack: Request, now: float) -> list[Event]:
        self._disarm(txn, "G", "H")
        self._arm(txn, "I", 0 if txn.reliable else self.t4, now)
        return []

    def _do_pass_ack(self, txn: Transaction, ack: Request, now: float) -> list[Event]:
        return [AckReceived(ack, txn.key, txn.peer)]

    def _do_complete_server(self, txn: Transaction, response: Response, now: float) -> list[Event]:
        self._arm(txn, "J", 0 if txn.reliable else 64 * self.t1, now)
        return self._do_send_response(txn, response, now)

    # -- CANCEL (§9.1) ------------------------------------------------------

    def _send_cancel(self, txn: Transaction, now: float) -> list[Event]:
        txn.cancel_pending = False
        txn.cancel_sent = True
        # §9.1: without a final response 64*T1 after the CANCEL, give up.
        self._arm(txn, "B", 64 * self.t1, now)
        _, events = self.send_request(
            build_cancel(txn.request, txn.cancel_reason),  # type: ignore[arg-type]  # kept
            now,
            reliable=txn.reliable,
            peer=txn.peer,
        )
        return events
