"""O2: the company's SRTP policy on real calls in memory (`media: {srtp: ...}`, a trunk's
`srtp`): who gets SRTP, who gets 488, and that a call never falls back to plain RTP."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.memory import DOMAIN, MemoryPhone, MemorySwitch, tone
from vaxel.sip.sdp import SAVP_PROTO, SessionDescription, crypto_lines

CARRIER = ("203.0.113.5", 5060)
ANNA_KEY, BJORN_KEY = bytes(range(30)), bytes(range(50, 80))


def described(srtp: str | None, trunk_srtp: str | None = None) -> str:
    media = f"media: {{srtp: {srtp}}}\n" if srtp else ""
    trunk = f", srtp: {trunk_srtp}" if trunk_srtp else ""
    return (
        f"company: {{domain: {DOMAIN}, name: Acme AB}}\n"
        'users: [{ext: "1001", name: Anna}, {ext: "1002", name: Björn}]\n'
        'numbers: [{number: "+46812345601", user: "1002"}]\n'
        f"trunks: {{carrier: {{host: {CARRIER[0]}, port: {CARRIER[1]}{trunk}}}}}\n" + media
    )


@pytest.fixture
def make(tmp_path: Path, tone_prompts: Path) -> Iterator:  # type: ignore[type-arg]
    made: list[MemorySwitch] = []

    def make(srtp: str | None = None, trunk_srtp: str | None = None) -> MemorySwitch:
        folder = tmp_path / str(len(made))
        folder.mkdir()
        switch = MemorySwitch(folder, tone_prompts, description=described(srtp, trunk_srtp))
        made.append(switch)
        return switch

    yield make
    for switch in made:
        switch.close()


def audio(body: bytes) -> tuple[str, list[bytes]]:
    """The proto of the SDP's stream and the SDES keys it carries."""
    media = SessionDescription.parse(body).media[0]
    return media.proto, [c.key for c in crypto_lines(media)]


def secure_phone(switch: MemorySwitch, user: str, key: bytes) -> MemoryPhone:
    phone = switch.phone(user)
    phone.srtp_key = key
    return phone


def test_optional_answers_a_savp_offer_with_srtp_and_rings_phones_plain(make) -> None:  # type: ignore[no-untyped-def]
    switch = make()  # no media: section: optional
    anna, bjorn = secure_phone(switch, "1001", ANNA_KEY), switch.phone("1002")
    anna.dial("1002")
    invite = bjorn.ringing()
    assert invite is not None and audio(invite.body) == ("RTP/AVP", [])
    bjorn.pick_up()
    ok = anna.answered()
    assert ok is not None and ok.status == 200
    proto, keys = audio(ok.body)
    assert proto == SAVP_PROTO and len(keys) == 1 and keys[0] not in (ANNA_KEY, BJORN_KEY)
    srtp = anna.endpoint.srtp
    assert srtp is not None and (srtp.local.key, srtp.remote.key) == (keys[0], ANNA_KEY)
    assert bjorn.endpoint.srtp is None
    hello = tone("hello", 0.2)
    anna.say(hello)
    assert bjorn.heard().tobytes().endswith(hello.tobytes())


def test_optional_takes_plain_phones_as_before(make) -> None:  # type: ignore[no-untyped-def]
    switch = make("optional")
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()
    ok = anna.answered()
    assert ok is not None and audio(ok.body) == ("RTP/AVP", [])


def test_required_refuses_a_plain_offer_with_488(make) -> None:  # type: ignore[no-untyped-def]
    switch = make("required")
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    final = anna.last_final("INVITE")
    assert final is not None and final.status == 488
    assert bjorn.ringing() is None and not switch.calls


def test_required_offers_savp_to_phones(make) -> None:  # type: ignore[no-untyped-def]
    switch = make("required")
    anna = secure_phone(switch, "1001", ANNA_KEY)
    bjorn = secure_phone(switch, "1002", BJORN_KEY)
    anna.dial("1002")
    invite = bjorn.ringing()
    assert invite is not None
    proto, keys = audio(invite.body)
    assert proto == SAVP_PROTO and keys and ANNA_KEY not in keys  # the leg's own key
    bjorn.pick_up()
    assert anna.answered() is not None
    srtp = bjorn.endpoint.srtp
    assert srtp is not None and srtp.remote.key == BJORN_KEY and srtp.local.key == keys[0]
    assert anna.endpoint.srtp is not None
    assert anna.endpoint.srtp.local.key != srtp.local.key  # each leg its own key


def test_a_phone_that_answers_savp_with_plain_rtp_is_not_connected(make) -> None:  # type: ignore[no-untyped-def]
    switch = make("required")
    anna, bjorn = secure_phone(switch, "1001", ANNA_KEY), switch.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()  # RTP/AVP in answer to RTP/SAVP
    assert bjorn.requests("BYE")  # his leg ends at once (488), as a phone that failed
    assert switch.media.facing((bjorn.host, bjorn.media_port)) is None  # no media to him


def test_hold_keeps_an_srtp_leg_encrypted_and_plain_is_not_taken_back(make) -> None:  # type: ignore[no-untyped-def]
    switch = make()  # optional: Anna SRTP, Björn plain
    anna, bjorn = secure_phone(switch, "1001", ANNA_KEY), switch.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()
    anna.answered()
    bjorn.request("INVITE", bjorn.sdp("sendonly"))  # Björn holds: Anna is told
    switch.run()
    reinvite = anna.requests("INVITE")[-1]
    assert b"a=sendonly" in reinvite.body
    proto, keys = audio(reinvite.body)
    assert proto == SAVP_PROTO and keys  # still SRTP, never a plain offer
    # Anna's phone tries to go plain within the call: refused, the call goes on encrypted.
    anna.srtp_key = None
    anna.request("INVITE", anna.sdp("sendrecv"))
    switch.run()
    final = anna.last_final("INVITE")
    assert final is not None and final.status == 488
    assert anna.endpoint.srtp is not None and switch.calls


def test_a_trunk_is_plain_unless_described(make) -> None:  # type: ignore[no-untyped-def]
    plain = make()
    carrier = plain.carrier(*CARRIER)
    carrier.srtp_key = ANNA_KEY
    carrier.dial("+46812345601")
    final = carrier.last_final("INVITE")
    assert final is not None and final.status == 488
    secure = make(trunk_srtp="optional")
    carrier = secure.carrier(*CARRIER)
    carrier.srtp_key = ANNA_KEY
    bjorn = secure.phone("1002")
    carrier.dial("+46812345601")
    assert bjorn.ringing() is not None
    bjorn.pick_up()
    ok = carrier.answered()
    assert ok is not None and audio(ok.body)[0] == SAVP_PROTO


def test_the_sip_trace_never_shows_a_key(
    tmp_path: Path, tone_prompts: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="vaxel.sip.trace")  # VAXEL_SIP_TRACE=1
    switch = MemorySwitch(tmp_path, tone_prompts, description=described("required"))
    try:
        anna = secure_phone(switch, "1001", ANNA_KEY)
        bjorn = secure_phone(switch, "1002", BJORN_KEY)
        anna.dial("1002")
        bjorn.pick_up()
        ok = anna.answered()
        assert ok is not None
        keys = [*audio(ok.body)[1], *audio(bjorn.invites[-1].body)[1], ANNA_KEY, BJORN_KEY]
        trace = "\n".join(r.getMessage() for r in caplog.records if r.name == "vaxel.sip.trace")
        assert "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[redacted]" in trace  # in and out
        for key in keys:
            assert base64.b64encode(key).decode() not in trace
    finally:
        switch.close()
