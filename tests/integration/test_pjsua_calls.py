"""P2-P5 calls between users with third-party phones (pjsua2) at both ends.

Every phone here is PJSIP's user agent in its own process (tests/integration/pjsua.py):
it registers and answers the switch's digest challenges with its own code, and
what it heard is compared with what the other phone said, code for code (both
speak PCMA alone). One server serves the module; each test starts its own phones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.integration.audio import RATE, g711_levels
from tests.integration.peers import Server, rtp_ports
from tests.integration.pjsua import PjPhone, close_all, hears, hears_voice
from tests.integration.test_calls import DOMAIN, USERS, data, newest, records

__all__ = ["data"]


@pytest.fixture(scope="module")
def server(data: Path) -> Iterator[Server]:
    srv = Server(data).start("--rtp-ports", rtp_ports())
    yield srv
    srv.stop()


PhoneFactory = Callable[..., PjPhone]


@pytest.fixture
def phones(server: Server) -> Iterator[PhoneFactory]:
    """Start pjsua2 phones (registered unless told); all end with the test."""
    started: list[PjPhone] = []

    def start(ext: str, register: bool = True, **options: object) -> PjPhone:
        phone = PjPhone(server.address, ext, USERS[ext][1], DOMAIN, register=register, **options)  # type: ignore[arg-type]
        started.append(phone)
        if register:
            phone.registered()
        return phone

    yield start
    close_all(started)


def voice(seconds: float, seed: int, frequency: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    rng = np.random.default_rng(seed)
    samples = 3000 * np.sin(2 * np.pi * frequency * t) + rng.normal(0, 800, t.size)
    return g711_levels(samples.astype(np.int16))


def connect(caller: PjPhone, callee: PjPhone, target: str | None = None) -> tuple[int, int]:
    """`caller` calls `callee`'s user, which answers; both calls' ids."""
    call = caller.call(target or callee.user)
    ringing = callee.incoming()
    callee.answer(ringing["call"])
    caller.state(call, "CONFIRMED")
    callee.state(ringing["call"], "CONFIRMED")
    return call, int(ringing["call"])


def talk(a: PjPhone, a_call: int, b: PjPhone, b_call: int, seed: int) -> None:
    """Both speak at once; each must hear a second and a half of the other."""
    said_a, said_b = voice(6, seed, 310), voice(6, seed + 1, 470)
    a.play(a_call, said_a)
    b.play(b_call, said_b)
    assert hears_voice(b, b_call, said_a, 3 * RATE // 2) >= 3 * RATE // 2, f"{b.user} heard no one"
    assert hears_voice(a, a_call, said_b, 3 * RATE // 2) >= 3 * RATE // 2, f"{a.user} heard no one"


def test_a_call_carries_audio_both_ways_and_keys_by_rfc4733_and_info(
    phones: PhoneFactory, data: Path
) -> None:
    before = len(records(data, 0))
    anna, bjorn = phones("1001"), phones("1002")
    call, answered = connect(anna, bjorn)
    incoming = bjorn.seen[[e["event"] for e in bjorn.seen].index("incoming")]
    assert incoming["from"].startswith('"Anna Svensson" <sip:1001@'), incoming
    talk(anna, call, bjorn, answered, seed=21)
    bjorn.press(answered, "15#")  # RFC 4733 telephone-events, relayed in the RTP
    assert [anna.expect("dtmf", call=call)["digit"] for _ in "15#"] == ["1", "5", "#"]
    bjorn.press(answered, "7", method="info")  # an INFO (application/dtmf-relay), relayed
    key = anna.expect("dtmf", call=call)
    assert (key["digit"], key["method"]) == ("7", "info"), key
    anna.hangup(call)
    bjorn.state(answered, "DISCONNECTED")
    record = newest(data, before + 1)
    assert (record["from"], record["to"], record["answered_by"]) == (
        "1001 (Anna Svensson)", "1002", "1002"
    )  # fmt: skip
    assert (record["disposition"], record["hangup"]) == ("answered", "caller"), record


def test_session_timers_asked_for_by_the_caller_and_an_update_keep_the_call(
    phones: PhoneFactory,
) -> None:
    """The caller requires RFC 4028 timers (Require: timer): the switch answers with the
    session's interval and keeps the call; an UPDATE with a new offer (RFC 3311) is
    answered mid-call, and the call goes on with audio both ways."""
    anna = phones("1001", session_timer="required")
    bjorn = phones("1002")
    call, answered = connect(anna, bjorn)
    (ok,) = anna.received("SIP/2.0 200", having=r"\nCSeq: \d+ INVITE")
    assert re.search(r"\nSession-Expires: 90;refresher=ua[cs]\r?\n", ok), ok
    assert re.search(r"\nRequire: [^\n]*timer", ok), ok
    anna.expect("media_state", call=call, status="active")
    anna.update(call)
    anna.expect("media_state", call=call, status="active")  # the UPDATE's answer
    talk(anna, call, bjorn, answered, seed=23)
    bjorn.hangup(answered)
    anna.state(call, "DISCONNECTED")


def test_a_callee_that_requires_session_timers_is_offered_them(phones: PhoneFactory) -> None:
    anna = phones("1001")
    bjorn = phones("1002", session_timer="required")
    call = anna.call("1002")
    anna.state(call, "EARLY")  # it rings (fails at once if the call is refused instead)
    bjorn.answer(bjorn.incoming()["call"])
    anna.state(call, "CONFIRMED")


def test_hold_plays_music_to_the_held_party_and_resume_brings_the_voice_back(
    phones: PhoneFactory, system_prompts: Path
) -> None:
    anna, bjorn = phones("1001"), phones("1002")
    call, answered = connect(anna, bjorn)
    anna.hold(call)
    assert bjorn.expect("media_state", call=answered, status="remote_hold")
    assert hears(bjorn, answered, system_prompts / "sv" / "music.wav", 1.0), "no music on hold"
    anna.resume(call)
    bjorn.expect("media_state", call=answered, status="active")
    bjorn.clear(answered)
    said = voice(5, 25, 390)
    anna.play(call, said)
    assert hears_voice(bjorn, answered, said, RATE) >= RATE, "no voice after the resume"
    anna.hangup(call)
    bjorn.state(answered, "DISCONNECTED")


@pytest.mark.parametrize("case", ["busy", "no-answer", "cancel"])
def test_a_call_not_taken(phones: PhoneFactory, data: Path, case: str) -> None:
    """Busy: the phone refuses (486) and the caller hears so. No answer: 1004 rings its
    ring time (5 s), then the caller gets 480 and the phone stops ringing. Cancel:
    the caller hangs up while the phone rings."""
    before = len(records(data, 0))
    callee = "1004" if case == "no-answer" else "1002"
    anna, phone = phones("1001"), phones(callee)
    call = anna.call(callee)
    ringing = phone.incoming()
    anna.expect("call_state", call=call, state="EARLY")  # the caller hears it ring
    if case == "busy":
        phone.answer(ringing["call"], 486)
    elif case == "cancel":
        anna.hangup(call)
    ended = anna.expect("call_state", call=call, state="DISCONNECTED", timeout=15)
    stopped = phone.expect("call_state", call=ringing["call"], state="DISCONNECTED")
    record = newest(data, before + 1)
    if case == "busy":
        assert ended["code"] == 486, ended
        assert (record["disposition"], record["cause"]) == ("busy", "486 Busy Here"), record
    elif case == "no-answer":
        assert ended["code"] == 480 and stopped["code"] == 487, (ended, stopped)
        assert (record["disposition"], record["hangup"]) == ("no-answer", "switch"), record
    else:
        assert stopped["code"] == 487, stopped
        assert (record["disposition"], record["hangup"]) == ("canceled", "caller"), record


def test_a_call_between_tcp_phones(phones: PhoneFactory) -> None:
    anna = phones("1001", transport="tcp")
    bjorn = phones("1002", transport="tcp")
    call, answered = connect(anna, bjorn)
    assert "SIP/2.0/TCP" in next(e for e in bjorn.seen if e["event"] == "incoming")["message"]
    talk(anna, call, bjorn, answered, seed=27)
    anna.hangup(call)
    bjorn.state(answered, "DISCONNECTED")
