"""A5, A7: a queue at load with real phones: 30 SIPp callers with media (each plays a voice
of its own to the switch) against 3 baresip agents on `vaxel serve`.

The callers come in from a carrier's trunk to a number whose flow leads straight to the
queue "line" (longest idle, a wrap-up of `WRAP_UP` s, announcements every
`ANNOUNCE_EVERY` s, a longest wait of `MAX_WAIT` s, then the reception's shared voicemail).
They all join before any agent's phone has registered, so their places are the order they
joined; then the agents register and take calls as a person would: each answers at once,
talks (`FIRST_TALK` s on their first call, `TALK` s after) and hangs up.

What the test checks is what the callers, the agents and the statistics would show:
- the order of service: first come first served (the queue visits' rows), and each agent
  was offered exactly the callers the rows say it answered, in that order (the From numbers
  of its incoming calls);
- what each caller heard, recognised as prompt sequences in the A-law the switch sent it
  (caught on the loopback interface, put in place by RTP timestamp, every prompt found by
  its 20 ms frames code for code): on entry "you are number N in the queue" with N their
  place; at each announcement their place then (it only counts down) and, once a call of
  the queue was handled, "the estimated waiting time is ..." as the handling times so far
  give it for that place and three agents;
- wrap-up: no agent is offered a call within `WRAP_UP` s of hanging up;
- overflow: the callers left waiting past `MAX_WAIT` leave then (their rows say timeout)
  and hear the shared voicemail's greeting.
"""

from __future__ import annotations

import re
import string
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from tests.integration.acme import ALWAYS, DOMAIN, PASSWORDS, Mailbox, company
from tests.integration.baresip import Baresip
from tests.integration.capture import Datagram, LoopbackCapture
from tests.integration.peers import SCENARIOS, Server, rtp_ports, sipp
from vaxel.media.player import FRAME, load_prompt
from vaxel.media.say import say_estimated_wait, say_queue_position
from vaxel.rtp.g711 import alaw_encode
from vaxel.store import Store
from vaxel.store.models import QueueVisit

NUMBER = "+46812345609"  # the queue's number, "08-123 456 09"
CALLERS = 30
AGENTS = ("1001", "1002", "1003")
ANNOUNCE_EVERY = 10.0
MAX_WAIT = 45.0
WRAP_UP = 3.0
FIRST_TALK, TALK = 15.0, 2.0  # long first calls make the first estimates minutes long
JOIN_RATE = 10  # callers a second
PATIENCE = MAX_WAIT + 25.0  # an overflowed caller hangs up after this (served: BYE sooner)
SLACK = 1.0  # s: how far the switch's moments may lie from the ones the test saw

DESCRIPTION = (
    """
company: {{domain: {domain}, name: Kö AB, language: en}}
users:
  - {{ext: "1001", name: Anna Svensson, password: anna-secret-1}}
  - {{ext: "1002", name: Björn Karlsson, password: bjorn-secret-2}}
  - {{ext: "1003", name: Cecilia Lind, password: cecilia-secret-3}}
numbers:
  - {{number: "08-123 456 09", flow: queued}}
flows:
  queued: {{destination: {{group: line}}}}
groups:
  line: {{members: ["1001", "1002", "1003"], strategy: longest-idle, ring_time: 10,
          overflow: {{voicemail: reception}},
          queue: {{announce_every: EVERY, max_wait: MAX_WAIT, wrap_up: WRAP_UP}}}}
voicemail:
  reception: {{members: ["1001"]}}
trunks:
  carrier: {{host: 127.0.0.1, port: {trunk}}}
""".replace("EVERY", str(ANNOUNCE_EVERY))
    .replace("MAX_WAIT", str(MAX_WAIT))
    .replace("WRAP_UP", str(WRAP_UP))
)


def caller_number(index: int) -> str:
    return f"+4670100{index:04d}"


# -- the agents --------------------------------------------------------------------------


@dataclass
class Agent:
    """A baresip agent answering at once, talking, hanging up; what it saw, in time.time()
    (when it was offered a call is the switch's INVITE on the wire: `offers`)."""

    ext: str
    phone: Baresip
    answered: list[str] = field(default_factory=list)  # the callers it talked to
    talks: list[tuple[float, float]] = field(default_factory=list)  # (answered, hung up)
    errors: list[str] = field(default_factory=list)

    def serve(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                event = self.phone.event({"CALL_ESTABLISHED"}, timeout=0.2)
                if event is None:
                    continue
                answered = time.time()
                self.answered.append(_number(str(event.get("peeruri", ""))))
                time.sleep(FIRST_TALK if not self.talks else TALK)  # the talk itself
                hung_up = time.time()
                self.phone.hangup()
                self.talks.append((answered, hung_up))
                closed = self.phone.event({"CALL_CLOSED"}, timeout=10)
                if closed is None:
                    self.errors.append("the call did not close after the hangup")
        except Exception as error:  # reported by the test
            self.errors.append(repr(error))


def _number(uri: str) -> str:
    found = re.search(r"sip:([^@;>]+)@", uri)
    return found.group(1) if found else uri


# -- what the callers heard --------------------------------------------------------------


@dataclass
class Heard:
    """One caller's audio from the switch: A-law codes placed by RTP timestamp (gaps are
    zeros), with the moment each packet arrived."""

    codes: bytes
    arrivals: list[tuple[int, float]]  # (offset in codes, when it arrived), by offset

    def when(self, offset: int) -> float:
        for at, arrived in self.arrivals:
            if at >= offset:
                return arrived
        return self.arrivals[-1][1]


def streams(datagrams: list[Datagram], server: Server, trunk: int) -> dict[str, Heard]:
    """Each caller's audio, by caller number: the switch's 200 OK to the trunk names the
    caller (From) and the switch's RTP port for the call (its SDP), which sends it."""
    ports: dict[int, str] = {}
    for gram in datagrams:
        text = gram.payload
        if _answer(gram, server, trunk):
            caller = re.search(rb"\r\nFrom: *<sip:([^@]+)@", text, re.IGNORECASE)
            media = re.search(rb"\r\nm=audio (\d+) ", text)
            assert caller and media, text
            ports[int(media.group(1))] = caller.group(1).decode()
    packets: dict[str, list[tuple[int, float, bytes]]] = {}
    for gram in datagrams:
        number = ports.get(gram.source[1])
        data = gram.payload
        if number is None or len(data) < 12 or data[0] >> 6 != 2 or data[1] & 0x7F != 8:
            continue
        header = 12 + 4 * (data[0] & 0x0F)
        if data[0] & 0x10:  # a header extension
            header += 4 + 4 * int.from_bytes(data[header + 2 : header + 4], "big")
        stamp = int.from_bytes(data[4:8], "big")
        packets.setdefault(number, []).append((stamp, gram.at, data[header:]))
    heard: dict[str, Heard] = {}
    for number, caught in packets.items():
        first = caught[0][0]
        placed = sorted(
            ((stamp - first) & 0xFFFFFFFF, at, payload) for stamp, at, payload in caught
        )
        placed = [entry for entry in placed if entry[0] < 600 * 8000]  # (wrapped backwards)
        codes = bytearray(placed[-1][0] + len(placed[-1][2]))
        for offset, _, payload in placed:
            codes[offset : offset + len(payload)] = payload
        heard[number] = Heard(bytes(codes), [(offset, at) for offset, at, _ in placed])
    return heard


class Prompts:
    """The system prompts a waiting caller may hear, as A-law codes in 20 ms frames."""

    def __init__(self, folder: Path) -> None:
        names = {"vm-greeting-shared"}
        for place in range(1, CALLERS + 1):
            names.update(say_queue_position(place, "en"))
        for minutes in range(0, 61):
            names.update(say_estimated_wait(minutes, "en"))
        self.frames: dict[str, list[tuple[int, bytes]]] = {}
        for name in names:
            codes = alaw_encode(np.asarray(load_prompt(folder / "en" / f"{name}.wav"), np.int16))
            frames = [(k, codes[k : k + FRAME]) for k in range(0, len(codes) - FRAME + 1, FRAME)]
            # near-constant frames (silence) match anywhere: only the others count
            self.frames[name] = [(k, frame) for k, frame in frames if len(set(frame)) >= 8]

    def found(self, codes: bytes) -> list[tuple[int, str]]:
        """Where each prompt starts in `codes` (most of its frames there, code for code, at
        their distance from its start: a lost packet or two does not hide it), in order."""
        starts: list[tuple[int, str]] = []
        for name, frames in self.frames.items():
            votes: Counter[int] = Counter()
            for k, frame in frames:
                at = codes.find(frame)
                while at >= 0:
                    votes[at - k] += 1
                    at = codes.find(frame, at + 1)
            starts += [(at, name) for at, n in votes.items() if n >= 0.6 * len(frames)]
        return sorted(starts)


@dataclass
class Announcement:
    at: float  # when its first word arrived
    place: int
    minutes: int | None  # the estimated wait said, if any


def announcements(heard: Heard, prompts: Prompts) -> tuple[list[Announcement], list[str], float]:
    """The announcements a caller heard, in order, what words did not make one (an
    announcement cut short by an agent's answer leaves a start of one), and when the
    shared voicemail's greeting began (0 if never)."""
    found = prompts.found(heard.codes)
    greeting = next((heard.when(at) for at, name in found if name == "vm-greeting-shared"), 0.0)
    said: list[tuple[float, list[str]]] = []
    for at, name in found:
        if name == "vm-greeting-shared":
            continue
        if name == "you-are-number" or not said:
            said.append((heard.when(at), []))
        said[-1][1].append(name)
    made: list[Announcement] = []
    left: list[str] = []
    for began, words in said:
        parsed = _parse(words)
        if parsed is None:
            left.append(" ".join(words))
        else:
            made.append(Announcement(began, *parsed))
    return made, left, greeting


def _parse(words: list[str]) -> tuple[int, int | None] | None:
    for place in range(1, CALLERS + 1):
        head = say_queue_position(place, "en")
        if words[: len(head)] != head:
            continue
        rest = words[len(head) :]
        if not rest:
            return place, None
        for minutes in range(0, 61):
            if rest == say_estimated_wait(minutes, "en"):
                return place, minutes
    return None


# -- the statistics ----------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    caller: str
    entered: float
    left: float
    outcome: str
    answered_by: str


def visits(data: Path, count: int, timeout: float = 20.0) -> list[Visit]:
    """The queue's visits, once `count` were written (behind the calls), oldest first."""
    deadline = time.monotonic() + timeout
    while True:
        with Store.open(data) as store, store.session() as session:
            rows = session.scalars(select(QueueVisit).order_by(QueueVisit.entered_at)).all()
            made = [
                Visit(row.caller, _epoch(row.entered_at), _epoch(row.left_at), row.outcome,
                      row.answered_by)
                for row in rows
            ]  # fmt: skip
        if len(made) >= count or time.monotonic() > deadline:
            return made
        time.sleep(0.2)


def _epoch(moment: datetime) -> float:
    if moment.tzinfo is None:  # (SQLite gives UTC back without its zone)
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


# -- the test ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def line(
    tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]
) -> Iterator[tuple[Server, int, str]]:
    folder = tmp_path_factory.mktemp("queue-load")
    data, trunk = company(folder, ALWAYS, smtp[0], DESCRIPTION)
    ports = rtp_ports()
    server = Server(data).start("--rtp-ports", ports)
    yield server, trunk, ports
    server.stop()


@pytest.mark.alone  # 30 callers at once: after the other tests, not beside them (Makefile)
def test_thirty_callers_are_served_in_turn_told_their_place_and_wait_and_overflow(
    line: tuple[Server, int, str], tmp_path: Path, system_prompts: Path
) -> None:
    server, trunk, ports = line
    low, high = (int(port) for port in ports.split("-"))
    started = time.monotonic()

    # the callers' voice (2 s, looped) and their numbers
    rng = np.random.default_rng(7)
    voice = (np.sin(np.arange(16000) * 2 * np.pi * 350 / 8000) * 6000).astype(np.int16)
    voice += (rng.standard_normal(16000) * 800).astype(np.int16)
    (tmp_path / "voice.alaw").write_bytes(alaw_encode(voice))
    rows = "".join(f"{caller_number(i)};{NUMBER}\n" for i in range(1, CALLERS + 1))
    (tmp_path / "callers.csv").write_text("SEQUENTIAL\n" + rows)
    template = string.Template((SCENARIOS / "queue_caller.xml").read_text())
    scenario = tmp_path / "queue_caller.xml"
    scenario.write_text(
        template.substitute(voice=tmp_path / "voice.alaw", patience=int(PATIENCE * 1000))
    )

    agents = {
        ext: Agent(ext, Baresip(tmp_path / ext, server, ext, PASSWORDS[ext], DOMAIN).start())
        for ext in AGENTS
    }
    phones = {trunk, *(agent.phone.sip_port for agent in agents.values())}
    capture = LoopbackCapture(
        lambda source, destination: (
            (source == server.port and destination in phones) or low <= source <= high
        )
    ).start()
    stop = threading.Event()
    threads: list[threading.Thread] = []
    result: list[object] = []
    try:
        callers = threading.Thread(
            target=lambda: result.append(
                sipp(
                    server, str(scenario), user="carrier", port=trunk, calls=CALLERS,
                    rate=JOIN_RATE, timeout=int(PATIENCE + MAX_WAIT + 30),
                    keys={"domain": "carrier.test"},
                    extra=("-inf", str(tmp_path / "callers.csv"), "-l", str(CALLERS)),
                )
            )
        )  # fmt: skip
        callers.start()
        # Everybody joins before an agent's phone registers: their places are their order.
        deadline = time.monotonic() + 30
        while len(_answered_calls(capture.datagrams, server, trunk)) < CALLERS:
            assert time.monotonic() < deadline, "not every caller joined the queue"
            assert callers.is_alive() or not result, result
            time.sleep(0.1)
        for agent in agents.values():
            agent.phone.register()
        for agent in agents.values():
            registered = agent.phone.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
            assert registered and registered["type"] == "REGISTER_OK", agent.phone.log_text()
            threads.append(threading.Thread(target=agent.serve, args=(stop,), daemon=True))
            threads[-1].start()
        callers.join(timeout=PATIENCE + MAX_WAIT + 60)
        assert not callers.is_alive(), "SIPp did not finish"
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        datagrams = capture.stop()
        for agent in agents.values():
            agent.phone.stop()
    (outcome,) = result
    assert outcome.returncode == 0, outcome.stdout[-3000:] + outcome.stderr[-3000:]  # type: ignore[attr-defined]
    for agent in agents.values():
        assert not agent.errors, (agent.ext, agent.errors, agent.phone.log_text()[-3000:])

    rows_ = visits(server.data, CALLERS)
    assert len(rows_) == CALLERS, rows_
    joined = [visit.caller for visit in rows_]  # in the order they joined
    assert sorted(joined) == sorted(caller_number(i) for i in range(1, CALLERS + 1))
    place_of = {caller: index + 1 for index, caller in enumerate(joined)}
    by_caller = {visit.caller: visit for visit in rows_}
    answered = sorted((v for v in rows_ if v.outcome == "answered"), key=lambda v: v.left)
    overflowed = [v for v in rows_ if v.outcome == "timeout"]
    assert len(answered) + len(overflowed) == CALLERS, Counter(v.outcome for v in rows_)

    # the order of service: first come first served ...
    assert [v.entered for v in answered] == sorted(v.entered for v in answered)
    # ... and each agent was rung by exactly the callers it answered, in that order
    offered = {
        ext: offers(datagrams, server, agent.phone.sip_port) for ext, agent in agents.items()
    }
    for ext, agent in agents.items():
        theirs = [v.caller for v in answered if v.answered_by == ext]
        assert [caller for _, caller in offered[ext]] == theirs == agent.answered, ext

    # wrap-up: no agent is offered a call within WRAP_UP s of hanging up
    gaps = []
    for ext, agent in agents.items():
        for (_, hung_up), (rung, _) in zip(agent.talks, offered[ext][1:], strict=False):
            assert rung - hung_up >= WRAP_UP, (ext, rung - hung_up)
            gaps.append(rung - hung_up)

    # (a wrap-up not kept would serve more callers than the longest wait lets through)
    assert answered and overflowed, Counter(v.outcome for v in rows_)

    # overflow at the longest wait, to the shared voicemail
    for visit in overflowed:
        assert MAX_WAIT - 0.1 <= visit.left - visit.entered <= MAX_WAIT + 5, visit
        assert not any(visit.caller == c for rung in offered.values() for _, c in rung)

    # what the callers heard
    prompts = Prompts(system_prompts)
    heard = streams(datagrams, server, trunk)
    assert sorted(heard) == sorted(joined)
    ends = sorted(hung_up for agent in agents.values() for _, hung_up in agent.talks)
    durations = sorted(
        (hung_up, hung_up - answered_at)
        for agent in agents.values()
        for answered_at, hung_up in agent.talks
    )
    estimates: Counter[int] = Counter()
    for caller in joined:
        visit = by_caller[caller]
        said, left, greeting = announcements(heard[caller], prompts)
        assert said, (caller, left)
        # words that make no announcement: only one cut short by the agent's answer
        assert not left or (visit.outcome == "answered" and len(left) == 1), (caller, left)
        entry = said[0]
        assert (entry.place, entry.minutes) == (place_of[caller], None), (caller, entry)
        assert entry.at - visit.entered < SLACK + 1, (caller, entry)
        last = place_of[caller]
        for announcement in said[1:]:
            assert announcement.place <= last, (caller, said)  # it only counts down
            last = announcement.place
            places = _places(announcement.at, caller, rows_)
            assert announcement.place in places, (caller, announcement, places)
            handled = [d for end, d in durations if end < announcement.at + SLACK]
            surely = [d for end, d in durations if end < announcement.at - SLACK]
            if announcement.minutes is None:
                # said before any call was handled, or cut short by the agent's answer
                cut = announcement is said[-1] and visit.outcome == "answered"
                assert not surely or (cut and visit.left - announcement.at < 6), (
                    caller, announcement, ends,
                )  # fmt: skip
                continue
            assert handled, (caller, announcement, ends)
            estimates[announcement.minutes] += 1
            allowed = _minutes(announcement.place, surely or handled, handled)
            assert announcement.minutes in allowed, (caller, announcement, allowed)
        if visit.outcome == "timeout":
            assert greeting >= visit.left - SLACK, (caller, greeting, visit)
        else:
            assert not greeting, caller
    assert estimates, "no caller was told an estimated wait"
    print(
        f"\nserved {len(answered)}, overflowed {len(overflowed)}, estimates said "
        f"(minutes: times) {dict(sorted(estimates.items()))}, shortest wrap-up seen "
        f"{min(gaps):.2f} s, "
        f"{time.monotonic() - started:.0f} s"
    )


def offers(datagrams: list[Datagram], server: Server, port: int) -> list[tuple[float, str]]:
    """The calls the switch offered the phone on SIP port `port`: when its INVITE first
    went out (retransmissions aside), and the caller it names (From)."""
    seen: dict[bytes, tuple[float, str]] = {}
    for gram in datagrams:
        text = gram.payload
        if gram.source[1] != server.port or gram.destination[1] != port:
            continue
        if not text.startswith(b"INVITE "):
            continue
        call = re.search(rb"\r\nCall-ID: *(\S+)", text, re.IGNORECASE)
        caller = re.search(rb"\r\nFrom: *[^\r]*<sip:([^@]+)@", text, re.IGNORECASE)
        assert call and caller, text
        if call.group(1) not in seen:
            seen[call.group(1)] = (gram.at, caller.group(1).decode())
    return sorted(seen.values())


def _answered_calls(datagrams: list[Datagram], server: Server, trunk: int) -> set[bytes]:
    """The Call-IDs of the callers the switch answered (they are in the queue then)."""
    calls: set[bytes] = set()
    for gram in list(datagrams):
        if _answer(gram, server, trunk):
            found = re.search(rb"\r\nCall-ID: *(\S+)", gram.payload, re.IGNORECASE)
            if found:
                calls.add(found.group(1))
    return calls


def _answer(gram: Datagram, server: Server, trunk: int) -> bool:
    """Is it the switch's 200 OK to a caller's INVITE (the caller is in the queue then)?"""
    text = gram.payload
    return (
        gram.source[1] == server.port
        and gram.destination[1] == trunk
        and text.startswith(b"SIP/2.0 200")
        and b" INVITE\r\n" in text
    )


def _places(at: float, caller: str, rows: list[Visit]) -> set[int]:
    """The caller's true places about `at` (from SLACK s before to SLACK/2 s after): one
    plus the callers who joined before them and had not left yet (answered or overflowed);
    it only falls over time."""
    mine = next(v for v in rows if v.caller == caller)
    ahead = [v for v in rows if v.entered < mine.entered]
    latest = 1 + sum(1 for v in ahead if v.left > at + SLACK / 2)
    earliest = 1 + sum(1 for v in ahead if v.left > at - SLACK)
    return set(range(latest, earliest + 1))


def _minutes(place: int, fewest: list[float], most: list[float]) -> set[int]:
    """The estimates a place may be told: the average handling time of the calls handled so
    far (whichever of those that ended about then the switch counted, each answer and end
    a little off) x place / 3 agents, to the nearest minute."""
    allowed: set[int] = set()
    for handled in (fewest, most):
        average = sum(handled) / len(handled)
        for average_ in (average - SLACK / 2, average + SLACK / 2):
            allowed.add(int(place * average_ / len(AGENTS) / 60 + 0.5))
    return set(range(min(allowed), max(allowed) + 1))
