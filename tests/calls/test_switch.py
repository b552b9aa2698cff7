"""calls/switch, calls/inbound and calls/signalling in memory (P2, P3, O2): what each request
gets before any feature sees it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.memory import DOMAIN, MemoryPhone, MemorySwitch

DESCRIPTION = f"""
company: {{domain: {DOMAIN}, name: Acme AB}}
users:
  - {{ext: "1001", name: Anna}}
  - {{ext: "1002", name: Björn}}
voicemail:
  support: {{members: ["1002"]}}
"""


@pytest.fixture
def switch(tmp_path: Path, tone_prompts: Path) -> Iterator[MemorySwitch]:
    memory = MemorySwitch(tmp_path, tone_prompts, description=DESCRIPTION)
    yield memory
    memory.close()


def options(phone: MemoryPhone, headers: list[str] = ()) -> None:  # type: ignore[assignment]
    phone.send([
        f"OPTIONS sip:{DOMAIN} SIP/2.0", phone._via(), f"From: <sip:1001@{DOMAIN}>;tag=o",
        f"To: <sip:{DOMAIN}>", "Call-ID: options@phone", "CSeq: 1 OPTIONS", "Max-Forwards: 70",
        *headers,
    ])  # fmt: skip
    phone.switch.run()


def test_options_say_only_what_works(switch: MemorySwitch) -> None:
    phone = switch.phone("1001", register=False)
    options(phone)
    (ok,) = phone.responses("OPTIONS")
    assert ok.status == 200
    assert ok.headers.get("Supported") == "replaces, timer"  # no gruu, outbound or path yet
    assert "REFER" in (ok.headers.get("Allow") or "")


def test_a_required_extension_we_lack_is_420(switch: MemorySwitch) -> None:
    phone = switch.phone("1001", register=False)
    options(phone, ["Require: 100rel"])
    (refused,) = phone.responses("OPTIONS")
    assert refused.status == 420 and refused.headers.get("Unsupported") == "100rel"


def test_register_is_challenged_then_bound(switch: MemorySwitch) -> None:
    phone = MemoryPhone(switch, "1001", "secret-pass-1", "198.51.100.7")
    assert phone.register().status == 200
    challenges = [r.status for r in phone.responses("REGISTER")]
    assert challenges == [401, 200]


def test_a_wrong_password_binds_nothing(switch: MemorySwitch) -> None:
    phone = MemoryPhone(switch, "1001", "wrong-password", "198.51.100.7")
    assert phone.register().status == 401
    assert switch.core.location.current(1, switch.clock()) == []
    assert switch.core.directory.company(1).reach("1001").devices == ()  # type: ignore[union-attr]


def test_a_call_without_credentials_is_challenged_statelessly(switch: MemorySwitch) -> None:
    phone = MemoryPhone(switch, "1001", "wrong", "198.51.100.7")
    phone.dial("1002", authenticate=False)
    (challenge,) = phone.responses("INVITE")
    assert challenge.status == 407 and challenge.headers.get("Proxy-Authenticate")
    assert len(switch.core.signalling.transactions) == 0  # no transaction for a challenge
    phone.dial("1002")
    assert phone.last_final("INVITE").status == 407  # type: ignore[union-attr]  # wrong password


def test_a_retransmitted_request_is_answered_from_memory(switch: MemorySwitch) -> None:
    phone = MemoryPhone(switch, "1001", "wrong", "198.51.100.7")
    phone.dial("1002", authenticate=False)
    first = phone.socket.sent[-1]
    phone.socket.send(*first)  # the same bytes again
    switch.run()
    challenges = phone.responses("INVITE")
    assert len(challenges) == 2 and bytes(challenges[0]) == bytes(challenges[1])


def test_a_malformed_request_gets_400_and_the_switch_serves_on(switch: MemorySwitch) -> None:
    phone = switch.phone("1001", register=False)
    phone.send([
        f"OPTIONS sip:{DOMAIN} SIP/2.0", phone._via(), f"From: <sip:1001@{DOMAIN}>;tag=o",
        f"To: <sip:{DOMAIN}>", "Call-ID: bad@phone", "CSeq: one OPTIONS", "Max-Forwards: 70",
    ])  # fmt: skip
    switch.run()
    assert phone.raw[-1].startswith(b"SIP/2.0 400 Bad Request")
    options(phone)
    assert phone.received[-1].status == 200  # type: ignore[union-attr]


def test_an_unknown_method_is_501_and_a_known_unserved_one_405(switch: MemorySwitch) -> None:
    """(A REFER outside a call is 403: transfers are served, within the call they transfer; a
    MESSAGE asks who sends it, as a call does.)"""
    phone = switch.phone("1001", register=False)
    for method, status in (("FOO", 501), ("PUBLISH", 405), ("REFER", 403), ("MESSAGE", 407)):
        phone.send([
            f"{method} sip:1002@{DOMAIN} SIP/2.0", phone._via(),
            f"From: <sip:1001@{DOMAIN}>;tag=o", f"To: <sip:1002@{DOMAIN}>",
            f"Call-ID: {method}@phone", f"CSeq: 1 {method}", "Max-Forwards: 70",
        ])  # fmt: skip
        switch.run()
        assert phone.received[-1].status == status, method  # type: ignore[union-attr]


def test_a_phone_watches_its_own_box_and_shared_ones_it_listens_to(switch: MemorySwitch) -> None:
    bjorn = switch.phone("1002")
    assert bjorn.subscribe("1002") == 200
    assert bjorn.subscribe("support") == 200  # Björn is a member of the shared box
    notifies = bjorn.requests("NOTIFY")
    assert len(notifies) == 2
    assert f"sip:support@{DOMAIN}".encode() in notifies[1].body


def test_nobody_watches_another_users_box(switch: MemorySwitch) -> None:
    anna = switch.phone("1001")
    assert anna.subscribe("1002") == 403
    assert anna.subscribe("support") == 403  # not a member
    assert anna.subscribe("1999") == 403  # no such box: the same answer
    assert anna.requests("NOTIFY") == []


def test_a_call_from_a_carrier_to_a_number_not_ours_is_404(
    tmp_path: Path, tone_prompts: Path
) -> None:
    description = DESCRIPTION + (
        "trunks:\n  carrier: {host: 203.0.113.5, port: 5060}\n"
        'numbers:\n  - {number: "+46812345600", user: "1001"}\n'
    )
    switch = MemorySwitch(tmp_path, tone_prompts, description=description)
    try:
        carrier = switch.carrier()
        carrier.dial("+46812345699")
        assert carrier.responses("INVITE")[-1].status == 404
        assert not any(r.status == 407 for r in carrier.responses("INVITE"))  # no password asked
        anna = switch.phone("1001")
        carrier.dial("+46812345600")
        assert anna.ringing() is not None  # the direct number rings its user
    finally:
        switch.close()


def test_a_user_holds_a_bounded_number_of_subscriptions(switch: MemorySwitch) -> None:
    from vaxel.calls.mwi import MAX_PER_USER

    anna = switch.phone("1001")
    for _ in range(MAX_PER_USER):
        assert anna.subscribe() == 200
    assert anna.subscribe() == 403  # one more without ending any: refused
    bjorn = switch.phone("1002")
    assert bjorn.subscribe() == 200  # another user is not held back
    assert anna.subscribe(expires=0) == 200  # ending (or fetching) is always allowed


def test_the_retransmission_memo_is_bounded_by_bytes_too(switch: MemorySwitch) -> None:
    from vaxel.calls import inbound

    phone = MemoryPhone(switch, "1001", "wrong", "198.51.100.7")
    filler = "X-Filler: " + "x" * 60_000
    for _ in range(600):  # 600 datagrams of 60 KB: 36 MB offered
        phone.dial("1002", headers=[filler], authenticate=False)
    memo = switch.core.inbound
    assert memo._repeat_bytes <= inbound.REPEAT_MEMO_BYTES
    assert sum(len(data) for data in memo._repeats) == memo._repeat_bytes
    assert len(memo._repeats) < 600


def test_a_new_device_is_acknowledged_only_once_it_is_stored(switch: MemorySwitch) -> None:
    from vaxel.services.registrations import all_bindings

    phone = MemoryPhone(switch, "1001", "secret-pass-1", "198.51.100.7")
    switch.hold_writes = True  # a slow database
    phone.register()  # answers the challenge, and waits
    assert [r.status for r in phone.responses("REGISTER")] == [401]  # no 200 yet
    assert all_bindings(switch.store) == {}
    switch.hold_writes = False
    switch.run()
    assert phone.responses("REGISTER")[-1].status == 200
    assert len(all_bindings(switch.store)[1]) == 1  # stored, then acknowledged
    switch.hold_writes = True
    assert phone.register().status == 200  # a refresh is answered at once: its device is stored
