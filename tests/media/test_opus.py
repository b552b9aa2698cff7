"""U1, P5: Opus at a browser's leg, A-law inside (RFC 7587, RFC 4733): audio survives both
ways, timestamps and telephone-events move between the 8 and 48 kHz clocks."""

from __future__ import annotations

import struct

import numpy as np

from tests.rtp.test_mixer import level_at
from vaxel.media.opus import INSIDE_DTMF_PT, INSIDE_PT, OpusEdge
from vaxel.rtp.g711 import decode, encode
from vaxel.rtp.packet import build

OPUS_PT, DTMF_48K = 111, 110


def tone(hz: float, frames: int) -> list[np.ndarray]:
    t = np.arange(160 * frames) / 8000
    samples = np.round(6000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)
    return [samples[i * 160 : (i + 1) * 160] for i in range(frames)]


def test_audio_goes_out_as_opus_and_comes_back_as_a_law() -> None:
    """The switch's A-law tone, sent to a browser as Opus and decoded there (a second edge
    standing in for the browser), is the same tone; sizes and clocks are the codecs'."""
    ours, browser = OpusEdge(OPUS_PT, DTMF_48K), OpusEdge(OPUS_PT, DTMF_48K)
    back = []
    for i, frame in enumerate(tone(700, 50)):
        inside = build(INSIDE_PT, i, 1000 + 160 * i, 0x1234, encode("PCMA", frame))
        wire = ours.outbound(inside)
        assert wire[1] & 0x7F == OPUS_PT and len(wire) < 12 + 160  # compressed
        assert struct.unpack_from("!I", wire, 4)[0] == (1000 + 160 * i) * 6
        again = browser.inbound(bytes(wire))
        assert again is not None and again[1] & 0x7F == INSIDE_PT and len(again) == 12 + 160
        assert struct.unpack_from("!I", again, 4)[0] == 1000 + 160 * i
        back.append(decode("PCMA", again[12:]))
    heard = np.concatenate(back[10:]).astype(np.float64)  # past the codecs' start-up
    assert level_at(heard, 700) > 3000 and level_at(heard, 1400) < 300


def test_telephone_events_change_clock_only() -> None:
    edge = OpusEdge(OPUS_PT, DTMF_48K)
    event = bytes([5, 0x80 | 10, 0x03, 0x20])  # key 5, end, volume 10, duration 800 (8 kHz)
    wire = edge.outbound(build(INSIDE_DTMF_PT, 7, 16000, 0xAB, event))
    assert wire[1] & 0x7F == DTMF_48K and struct.unpack_from("!I", wire, 4)[0] == 96000
    assert wire[12:14] == event[:2] and int.from_bytes(wire[14:16], "big") == 4800
    inside = edge.inbound(bytes(wire))
    assert inside is not None and inside[1] & 0x7F == INSIDE_DTMF_PT
    assert inside[12:16] == event and struct.unpack_from("!I", inside, 4)[0] == 16000


def test_what_is_not_the_browsers_audio_is_dropped() -> None:
    edge = OpusEdge(OPUS_PT, DTMF_48K)
    assert edge.inbound(build(0, 1, 0, 1, b"\xff" * 160)) is None  # PCMU: not negotiated
    assert edge.inbound(b"\x80\x6f\x00") is None  # cut short
    extended = bytearray(build(OPUS_PT, 1, 0, 1, b""))
    extended[0] |= 0x10  # says a header extension follows, which is missing
    assert edge.inbound(bytes(extended)) is None


def test_a_header_extension_is_skipped() -> None:
    """Browsers may add header extensions (RFC 8285): the payload starts after them."""
    sender, edge = OpusEdge(OPUS_PT, DTMF_48K), OpusEdge(OPUS_PT, DTMF_48K)
    frame = tone(500, 1)[0]
    wire = sender.outbound(build(INSIDE_PT, 1, 0, 1, encode("PCMA", frame)))
    extension = b"\xbe\xde\x00\x01" + b"\x10\x7f\x00\x00"  # one-byte header, one word
    with_extension = bytes([wire[0] | 0x10]) + bytes(wire[1:12]) + extension + bytes(wire[12:])
    assert edge.inbound(with_extension) is not None
