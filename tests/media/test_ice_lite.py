"""U1, O2: the switch's ICE-lite answers (RFC 8445 §7.3): only a browser that knows the leg's
ICE password gets an answer, and only USE-CANDIDATE nominates."""

from __future__ import annotations

from aioice import stun

from vaxel.media.ice_lite import IceLite

UFRAG, PWD = "sw01", "switch-ice-password-0123456789ab"
SOURCE = ("127.0.0.1", 40000)


def check(
    *,
    username: str = f"{UFRAG}:br01",
    pwd: str = PWD,
    nominate: bool = False,
    controlling: bool = True,
    method: stun.Method = stun.Method.BINDING,
) -> bytes:
    """A browser's connectivity check, as aioice (a full ICE agent) writes one."""
    request = stun.Message(message_method=method, message_class=stun.Class.REQUEST)
    request.attributes["USERNAME"] = username
    request.attributes["PRIORITY"] = 1853824767
    if controlling:
        request.attributes["ICE-CONTROLLING"] = 0x1234
    else:
        request.attributes["ICE-CONTROLLED"] = 0x1234
    if nominate:
        request.attributes["USE-CANDIDATE"] = None
    request.add_message_integrity(pwd.encode())
    return bytes(request)


def test_a_valid_check_is_answered_with_the_address_it_came_from() -> None:
    answered = IceLite(UFRAG, PWD).check(check(), SOURCE)
    assert answered is not None and not answered.nominated
    response = stun.parse_message(answered.response)
    assert response.message_class == stun.Class.RESPONSE
    assert response.attributes["XOR-MAPPED-ADDRESS"] == SOURCE
    assert response.check_message_integrity(PWD.encode())  # keyed with our password


def test_use_candidate_nominates() -> None:
    answered = IceLite(UFRAG, PWD).check(check(nominate=True), SOURCE)
    assert answered is not None and answered.nominated


def test_checks_that_are_not_ours_get_no_answer() -> None:
    ice = IceLite(UFRAG, PWD)
    assert ice.check(check(pwd="a guess at the password"), SOURCE) is None
    assert ice.check(check(username="other:br01"), SOURCE) is None
    assert ice.check(check(controlling=False), SOURCE) is None  # a lite agent is controlled
    assert ice.check(check(method=stun.Method.ALLOCATE), SOURCE) is None
    assert ice.check(b"\x00\x01\x00\x00garbage", SOURCE) is None
    assert ice.check(check()[:-4], SOURCE) is None  # cut short
