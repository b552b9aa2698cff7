"""The switch and its web process, linked (P8, O3).

The web (API, pages, live events) runs in a process of its own, started and
watched by `vaxel serve`. One Python process has one GIL: with the web's worker
threads beside the loop that relays RTP, every request's database and template
work held that loop up, and `bench/api_load.py` measured +4 ms to +115 ms on the
p99 transit of 100 calls' media at 100 requests a second. In its own process
the web costs the switch only the messages below.

What crosses, as length-prefixed pickles over a Unix socket pair that only the
two processes hold (so nothing else can write a pickle to either end):

- switch -> web: the bus's live events (`LIVE_EVENTS`, and `BoxChanged`), only
  while the web watches a company, so an idle web costs the calls nothing;
- web -> switch: which companies the web watches; events the web publishes (a
  message marked heard: the switch lights the lamps off); and three questions,
  each answered by the switch: `changed` (look again: the next call sees the
  change; answered once the switch has dropped what it cached), `stats` (the
  figures of /metrics), `place_call` (click-to-call), `transfer` (a live call's
  transfer, found by its id), `conference` (A3: a room's participants, mute, kick, lock,
  end: features/conference.py `room_action`), `add_party` (U12: a third party to a
  call, features/three_way.py), `end_wrap_up` (A5: an agent's "ready now"), `queue_live`
  (A11: who waits in each queue now, and the agents' states), `agents` (A5: the
  company's agents and their states, features/agents.py `company_agents`) and `console`
  (A16: the operator console's calls, answer any of them, the announced transfer:
  features/console.py);
- both ways, SIP over WebSocket (P2, U1; web/sip_ws.py, transport/ws.py): the web tells
  the switch of each `/ws` connection opened (`sip.open`), each SIP message it carries
  (`sip.in`) and its end (`sip.closed`); the switch sends SIP back (`sip.out`) and may
  close one (`sip.close`). A link that closes ends every such connection for the switch.

The web side's `LinkedBus` is a plain `Bus` for the web's own listeners, which
also tells the switch what it watches.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import pickle
import struct
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from vaxel.bus import LIVE_EVENTS, BoxChanged, Bus
from vaxel.features.click_to_call import ClickToCallError
from vaxel.features.queue_live import QueueNow
from vaxel.features.transfer import TransferError

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
MAX_MESSAGE = 16 * 1024 * 1024  # a frame longer than this is a broken link
BACKLOG = 8 * 1024 * 1024  # bytes of events queued for a stalled web before they are dropped
ANSWER_TIMEOUT = 10.0  # seconds the web waits for the switch's answer

FORWARDED: tuple[type, ...] = (*LIVE_EVENTS, BoxChanged)
SIP_KINDS = frozenset({"sip.open", "sip.in", "sip.closed"})  # SIP over WebSocket, from the web


class SipFlows(Protocol):
    """The switch's SIP over WebSocket (transport/ws.py `WsTransport`)."""

    def handle(self, message: tuple[Any, ...]) -> None:
        """A `sip.open`, `sip.in` or `sip.closed` from the web."""

    def lost(self) -> None:
        """The link closed: every WebSocket of that web process is gone."""


#: (company, call id, the requester's extension, the party named, whether the requester is
#: an admin, the target) -> (the transferor, the transferred party, what was dialled).
TransferCall = Callable[[int, str, str | None, str | None, bool, str], tuple[str, str, str]]


#: A16: (company, the operator's extension, action, call id, target) -> ("ok", what is
#: shown) or ("refused", (HTTP status, why)); features/console.py, app.py `_console`.
ConsoleAct = Callable[[int, str, str, str, str], tuple[str, object]]


def frame(message: object) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(body)) + body


async def read(reader: asyncio.StreamReader) -> Any:
    """The next message, or None when the other side has closed the link."""
    try:
        head = await reader.readexactly(_LENGTH.size)
        (length,) = _LENGTH.unpack(head)
        if length > MAX_MESSAGE:
            raise ConnectionError(f"a message of {length} bytes on the web link")
        return pickle.loads(await reader.readexactly(length))
    except (asyncio.IncompleteReadError, ConnectionResetError):
        return None


class SwitchEnd:
    """The switch's side: forwards live events, applies what the web asks."""

    def __init__(
        self,
        bus: Bus,
        *,
        changed: Callable[[], None],
        stats: Callable[[], dict[str, float]],
        place_call: Callable[[int, str, str, str], tuple[str, str]],
        conference: Callable[[int, str, str, str, bool], tuple[str, object]] | None = None,
        add_party: Callable[[int, str, str, str], tuple[str, object]] | None = None,
        end_wrap_up: Callable[[int, str], None] | None = None,
        queue_live: Callable[[int], list[QueueNow]] | None = None,
        agents: Callable[[int], object] | None = None,
        transfer: TransferCall | None = None,
        recording: Callable[[int, str | None, str, str], tuple[int, str]] | None = None,
        console: ConsoleAct | None = None,
        sip: SipFlows | None = None,
    ) -> None:
        self.bus = bus
        self.sip = sip  # the switch's SIP over WebSocket (transport/ws.py), if it has one
        self.answers: dict[str, Callable[..., object]] = {
            "changed": changed,
            "stats": stats,
            "place_call": place_call,
        }
        if conference is not None:
            self.answers["conference"] = conference
        if add_party is not None:
            self.answers["add_party"] = add_party
        if end_wrap_up is not None:  # A5: an agent's "ready now"
            self.answers["end_wrap_up"] = end_wrap_up
        if queue_live is not None:  # A11: the queues now, for the wallboard
            self.answers["queue_live"] = queue_live
        if agents is not None:  # A5: the agents' states
            self.answers["agents"] = agents
        if transfer is not None:
            self.answers["transfer"] = transfer
        if recording is not None:  # A6: start, pause, stop a running call's recording
            self.answers["recording"] = recording
        if console is not None:  # A16: the operator console
            self.answers["console"] = console
        self.writer: asyncio.StreamWriter | None = None
        self.watched: list[int | None] = []  # what this web watches, undone when it goes
        self.dropped = 0  # events not sent because the web was not reading

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one web process until it closes the link (it exits or restarts)."""
        self.writer = writer
        for kind in FORWARDED:
            self.bus.subscribe(kind, self.forward)
        try:
            while (message := await read(reader)) is not None:
                self._received(message)
        finally:
            if self.sip is not None:
                self.sip.lost()  # the web's WebSockets went with it
            for kind in FORWARDED:
                self.bus.unsubscribe(kind, self.forward)
            for company_id in self.watched:
                self.bus.unwatch(company_id)
            self.watched.clear()
            self.writer = None
            writer.close()

    def forward(self, event: object) -> None:
        writer = self.writer
        if writer is None or writer.transport.is_closing():
            return
        if writer.transport.get_write_buffer_size() > BACKLOG:
            self.dropped += 1  # the web is stuck; the calls must not wait for it
            return
        writer.write(frame(("event", event)))

    def send(self, message: object) -> bool:
        """Write to the web (SIP over WebSocket); False when the web is gone or stalled."""
        writer = self.writer
        if writer is None or writer.transport.is_closing():
            return False
        if writer.transport.get_write_buffer_size() > BACKLOG:
            return False
        writer.write(frame(message))
        return True

    def _received(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind in SIP_KINDS:
            if self.sip is not None:
                self.sip.handle(message)
        elif kind == "watch":
            self.bus.watch(message[1])
            self.watched.append(message[1])
        elif kind == "unwatch":
            if message[1] in self.watched:
                self.watched.remove(message[1])
                self.bus.unwatch(message[1])
        elif kind == "publish":
            self.bus.publish(message[1])
        elif kind == "ask":
            _, number, name, args = message
            self._answer(number, name, args)
        else:
            log.warning("unknown message on the web link: %r", kind)

    def _answer(self, number: int, name: str, args: tuple[Any, ...]) -> None:
        try:
            reply: tuple[Any, ...] = ("answer", number, "ok", self.answers[name](*args))
        except (ClickToCallError, TransferError) as exc:
            reply = ("answer", number, "refused", (exc.status, str(exc)))
        except Exception as exc:
            log.exception("the web's %s failed", name)
            reply = ("answer", number, "failed", f"{type(exc).__name__}: {exc}")
        if self.writer is not None and not self.writer.transport.is_closing():
            self.writer.write(frame(reply))


class LinkFailed(RuntimeError):
    """The switch did not answer (it failed, or the link is down)."""


class WebEnd:
    """The web process's side: its bus, and the questions it asks the switch."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        self.bus = LinkedBus(self)
        self.numbers = itertools.count(1)
        self.waiting: dict[int, asyncio.Future[Any]] = {}
        # What the switch sends SIP WebSockets (web/sip_ws.py `SipRelay.from_switch`).
        self.sip: Callable[[tuple[Any, ...]], None] | None = None

    async def serve(self) -> None:
        """Deliver the switch's events and answers until the switch closes the link."""
        try:
            while (message := await read(self.reader)) is not None:
                if message[0] == "event":
                    self.bus.publish(message[1])
                elif message[0] in ("sip.out", "sip.close"):
                    if self.sip is not None:
                        self.sip(message)
                elif message[0] == "answer":
                    future = self.waiting.pop(message[1], None)
                    if future is not None and not future.done():
                        future.set_result(message[2:])
        finally:
            for future in self.waiting.values():
                if not future.done():
                    future.set_exception(LinkFailed("the switch closed the link"))
            self.waiting.clear()

    def send(self, message: object) -> None:
        """Send from the web's loop or from one of its worker threads."""
        data = frame(message)
        if threading.get_ident() == self.loop_thread:
            self.writer.write(data)
        else:
            self.loop.call_soon_threadsafe(self.writer.write, data)

    async def ask(self, name: str, *args: Any) -> Any:
        """The switch's answer to `name(*args)`, on the web's loop."""
        number = next(self.numbers)
        future: asyncio.Future[Any] = self.loop.create_future()
        self.waiting[number] = future
        self.writer.write(frame(("ask", number, name, args)))
        try:
            outcome, value = await asyncio.wait_for(future, ANSWER_TIMEOUT)
        except TimeoutError:
            self.waiting.pop(number, None)
            raise LinkFailed(f"the switch did not answer {name}") from None
        if outcome == "refused":
            raise ClickToCallError(*value)
        if outcome == "failed":
            raise LinkFailed(value)
        return value

    def ask_from_thread(self, name: str, *args: Any) -> Any:
        """`ask`, from a worker thread: it waits for the answer."""
        if threading.get_ident() == self.loop_thread:
            raise RuntimeError(f"{name} must not wait on the web's loop")
        return asyncio.run_coroutine_threadsafe(self.ask(name, *args), self.loop).result()

    # -- what the web's context is given (web/context.py) --------------------------------

    def changed(self) -> None:
        """Tell the switch to look again, and wait until it has (from a worker thread);
        on the loop it is only sent (nothing on the loop may wait)."""
        if threading.get_ident() == self.loop_thread:
            self.send(("ask", 0, "changed", ()))
        else:
            self.ask_from_thread("changed")

    def publish(self, event: object) -> None:
        self.send(("publish", event))

    def stats(self) -> dict[str, float]:
        answer: dict[str, float] = self.ask_from_thread("stats")
        return answer

    async def place_call(self, company_id: int, domain: str, ext: str, to: str) -> tuple[str, str]:
        answer: tuple[str, str] = await self.ask("place_call", company_id, domain, ext, to)
        return answer

    async def conference(
        self, company_id: int, name: str, action: str, participant: str, value: bool
    ) -> tuple[str, object]:
        """A3: a room's participants, or an action on it (features.conference.room_action)."""
        answer: tuple[str, object] = await self.ask(
            "conference", company_id, name, action, participant, value
        )
        return answer

    async def add_party(
        self, company_id: int, extension: str, call_id: str, to: str
    ) -> tuple[str, object]:
        """U12: a third party to a call (features.three_way.add_party)."""
        answer: tuple[str, object] = await self.ask("add_party", company_id, extension, call_id, to)
        return answer

    async def end_wrap_up(self, company_id: int, extension: str) -> None:
        """A5: the user's wrap-up ends now (app.py `_end_wrap_up`)."""
        await self.ask("end_wrap_up", company_id, extension)

    async def queue_live(self, company_id: int) -> list[QueueNow]:
        """A11: the company's queue groups now (app.py `_queue_live`)."""
        answer: list[QueueNow] = await self.ask("queue_live", company_id)
        return answer

    async def agents(self, company_id: int) -> Any:
        """A5: the company's agents and their states (app.py `_agents`)."""
        return await self.ask("agents", company_id)

    async def transfer(
        self,
        company_id: int,
        call_id: str,
        requester: str | None,
        party: str | None,
        admin: bool,
        to: str,
    ) -> tuple[str, str, str]:
        """Transfer a live call (see `TransferCall`); a refusal raises `TransferError`."""
        try:
            answer: tuple[str, str, str] = await self.ask(
                "transfer", company_id, call_id, requester, party, admin, to
            )
        except ClickToCallError as exc:  # how `ask` says the switch refused
            raise TransferError(exc.status, str(exc)) from None
        return answer

    async def recording(
        self, company_id: int, extension: str | None, call_id: str, action: str
    ) -> tuple[int, str]:
        """A6: (200, what the call's recording is now), or an HTTP status and why."""
        answer: tuple[int, str] = await self.ask(
            "recording", company_id, extension, call_id, action
        )
        return answer

    async def console(
        self, company_id: int, operator: str, action: str, call_id: str, to: str
    ) -> tuple[str, object]:
        """A16: the operator console's question or action (app.py `_console`)."""
        answer: tuple[str, object] = await self.ask(
            "console", company_id, operator, action, call_id, to
        )
        return answer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class LinkedBus(Bus):
    """The web's bus: its listeners get the switch's events; what they watch is told to
    the switch, so the switch builds events only for watched companies."""

    def __init__(self, end: WebEnd) -> None:
        super().__init__()
        self.end = end

    def watch(self, company_id: int | None) -> None:
        super().watch(company_id)
        self.end.send(("watch", company_id))

    def unwatch(self, company_id: int | None) -> None:
        super().unwatch(company_id)
        self.end.send(("unwatch", company_id))


PlaceCall = Callable[[int, str, str, str], Awaitable[tuple[str, str]]]
