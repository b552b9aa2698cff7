"""bench/rtpengine.py: the ng protocol's bencode both ways, rtpengine's SDES key read from
its answer, and the smallest step against each relay: every packet arrives both ways,
decrypted where it was SRTP, and the relay's CPU is counted. The rtpengine step is skipped
where rtpengine is not installed (`apt-get install rtpengine-daemon`)."""

from __future__ import annotations

import base64
import shutil
import tempfile
from pathlib import Path
from types import ModuleType

import pytest

from tests.bench.scripts import load


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load("rtpengine")


def test_bencode_round_trip(bench: ModuleType) -> None:
    message = {"command": "offer", "flags": ["fast", "trust-address"], "delete-delay": 0}
    encoded = bench.bencode(message)
    assert encoded == b"d7:command5:offer12:delete-delayi0e5:flagsl4:fast13:trust-addressee"
    assert bench.bdecode(encoded) == message
    assert bench.bdecode(b"d3:raw2:\xff\xfee") == {"raw": b"\xff\xfe"}  # not UTF-8: bytes


@pytest.mark.parametrize("broken", [b"d7:command", b"i12", b"5:ab", b"l1:ae1:b", b""])
def test_bdecode_refuses_what_is_not_one_value(bench: ModuleType, broken: bytes) -> None:
    with pytest.raises(ValueError):
        bench.bdecode(broken)


def test_the_relays_key_comes_from_its_crypto_line(bench: ModuleType) -> None:
    key = bytes(range(30))
    inline = base64.b64encode(key).decode()
    answer = f"m=audio 11832 RTP/SAVP 8\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{inline}\r\n"
    assert bench.media_port(answer) == 11832
    assert bench.sdes_key(answer) == key
    with pytest.raises(ValueError, match="MKI"):
        bench.sdes_key(answer.replace(inline, inline + "|2^31|1:4"))
    with pytest.raises(ValueError, match="no audio port"):
        bench.media_port("m=audio 0 RTP/AVP 8\r\n")


@pytest.mark.parametrize("relay", ["vaxel", "rtpengine"])
def test_the_smallest_step_relays_and_decrypts_every_packet(bench: ModuleType, relay: str) -> None:
    if relay == "rtpengine" and shutil.which("rtpengine") is None:
        pytest.skip("rtpengine is not installed (apt-get install rtpengine-daemon)")
    with tempfile.TemporaryDirectory() as work, bench.Supervisor() as sup:
        step = bench.measure(relay, 3, 0.5, Path(work), sup)
    ticks = round((bench.WARMUP + 0.5) / bench.PTIME) + 1
    assert step.sent_a == step.sent_b == 3 * ticks, step
    # Every packet of A (SRTP) reached B as plain RTP with A's payload, and every one of
    # B's reached A encrypted with the relay's key and carrying B's payload.
    assert step.got_at_b == step.sent_a and step.got_at_a == step.sent_b, step
    assert step.bad_at_a == step.bad_at_b == 0
    assert step.window_packets > 0 and step.relay_cpu_s >= 0
    if relay == "vaxel":
        assert step.callback_cpu_s and step.callback_cpu_s > 0
        assert step.extra == {"srtp_dropped": 0}
