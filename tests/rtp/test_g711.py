"""P4/P5: G.711 A-law and µ-law codecs and the PCMA <-> PCMU translation tables."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from vaxel.rtp.g711 import (
    ALAW_TO_ULAW,
    ULAW_TO_ALAW,
    alaw_decode,
    alaw_encode,
    decode,
    encode,
    ulaw_decode,
    ulaw_encode,
)

ALL_CODES = bytes(range(256))
ALL_SAMPLES = np.arange(-32768, 32768).astype(np.int16)


def ulaw_step(code: int) -> int:
    """Width of the µ-law quantisation interval that `code` stands for, in 16-bit units."""
    return 8 << (((~code) >> 4) & 0x07)


def alaw_step(code: int) -> int:
    segment = ((code ^ 0x55) >> 4) & 0x07
    return 16 << max(segment - 1, 0)


def test_known_values() -> None:
    assert alaw_decode(b"\xd5").tolist() == [8]
    assert alaw_decode(b"\x55").tolist() == [-8]
    assert alaw_decode(b"\xaa").tolist() == [32256]
    assert alaw_decode(b"\x2a").tolist() == [-32256]
    assert ulaw_decode(b"\xff").tolist() == [0]
    assert ulaw_decode(b"\x7f").tolist() == [0]  # negative zero
    assert ulaw_decode(b"\x80").tolist() == [32124]
    assert ulaw_decode(b"\x00").tolist() == [-32124]
    assert alaw_encode(np.array([0, -1, 32767, -32768], np.int16)) == b"\xd5\x55\xaa\x2a"
    assert ulaw_encode(np.array([0, -1, 32767, -32768], np.int16)) == b"\xff\x7e\x80\x00"


def test_decode_gives_int16() -> None:
    assert alaw_decode(ALL_CODES).dtype == np.int16
    assert ulaw_decode(bytearray(ALL_CODES)).dtype == np.int16
    assert alaw_decode(memoryview(ALL_CODES)).shape == (256,)
    assert alaw_decode(b"").shape == (0,)


def test_alaw_round_trip_all_codes() -> None:
    assert alaw_encode(alaw_decode(ALL_CODES)) == ALL_CODES


def test_ulaw_round_trip_all_codes_but_negative_zero() -> None:
    expected = bytearray(ALL_CODES)
    expected[0x7F] = 0xFF  # -0 decodes to 0, which encodes as +0
    assert ulaw_encode(ulaw_decode(ALL_CODES)) == bytes(expected)


def test_decoded_values_are_distinct_and_symmetric() -> None:
    alaw = alaw_decode(ALL_CODES).astype(int)
    ulaw = ulaw_decode(ALL_CODES).astype(int)
    assert len(set(alaw.tolist())) == 256
    assert len(set(ulaw.tolist())) == 255  # +0 and -0
    assert sorted(alaw.tolist()) == sorted((-alaw).tolist())
    assert sorted(ulaw.tolist()) == sorted((-ulaw).tolist())


@pytest.mark.parametrize(
    ("encoder", "decoder", "limit"),
    [(alaw_encode, alaw_decode, 32256), (ulaw_encode, ulaw_decode, 32124)],
)
def test_encode_is_monotonic_within_half_a_step(encoder, decoder, limit) -> None:
    out = decoder(encoder(ALL_SAMPLES)).astype(int)
    assert np.all(np.diff(out) >= 0)
    inside = np.abs(ALL_SAMPLES.astype(int)) <= limit
    error = np.abs(out - ALL_SAMPLES.astype(int))[inside]
    # half the widest interval (1024 in A-law's top segment, 1024 in µ-law's) plus rounding
    assert error.max() <= 512 + 8


def test_matches_the_reference_implementation() -> None:
    """The C codec CPython shipped until 3.13 (Sun's G.711 code) agrees on every input."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    raw = ALL_SAMPLES.tobytes()
    assert alaw_encode(ALL_SAMPLES) == audioop.lin2alaw(raw, 2)
    assert ulaw_encode(ALL_SAMPLES) == audioop.lin2ulaw(raw, 2)
    assert alaw_decode(ALL_CODES).tobytes() == audioop.alaw2lin(ALL_CODES, 2)
    assert ulaw_decode(ALL_CODES).tobytes() == audioop.ulaw2lin(ALL_CODES, 2)


def test_encode_clips_wider_integers() -> None:
    mixed = np.array([40_000, -40_000, 100], np.int32)
    assert alaw_encode(mixed) == alaw_encode(np.array([32767, -32768, 100], np.int16))
    assert ulaw_encode([0, 0]) == b"\xff\xff"


def test_translation_tables_are_bytes_for_translate() -> None:
    assert isinstance(ALAW_TO_ULAW, bytes) and len(ALAW_TO_ULAW) == 256
    assert isinstance(ULAW_TO_ALAW, bytes) and len(ULAW_TO_ALAW) == 256
    assert b"\xd5\x55".translate(ALAW_TO_ULAW) == b"\xfe\x7e"  # ±8 is in both laws
    assert bytearray(b"\xff").translate(ULAW_TO_ALAW) == bytearray(b"\xd5")


def test_alaw_to_ulaw_within_one_step() -> None:
    linear = alaw_decode(ALL_CODES).astype(int)
    translated = ALL_CODES.translate(ALAW_TO_ULAW)
    out = ulaw_decode(translated).astype(int)
    for code, a, u in zip(translated, linear, out, strict=True):
        # A-law reaches 32256, µ-law stops at 32124: that clip is inside the top step too
        assert abs(a - u) <= ulaw_step(code), (code, a, u)


def test_ulaw_to_alaw_within_one_step() -> None:
    linear = ulaw_decode(ALL_CODES).astype(int)
    translated = ALL_CODES.translate(ULAW_TO_ALAW)
    out = alaw_decode(translated).astype(int)
    for code, u, a in zip(translated, linear, out, strict=True):
        assert abs(a - u) <= alaw_step(code), (code, u, a)


def test_sine_through_pcma_translated_to_pcmu() -> None:
    t = np.arange(8000) / 8000
    sine = (10_000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    pcmu = encode("PCMA", sine).translate(ALAW_TO_ULAW)
    out = decode("PCMU", pcmu)
    assert np.corrcoef(sine, out)[0, 1] >= 0.999
    back = decode("pcma", pcmu.translate(ULAW_TO_ALAW))  # names are case-insensitive
    assert np.corrcoef(sine, back)[0, 1] >= 0.999


def test_unknown_encoding_name() -> None:
    with pytest.raises(ValueError, match="G722"):
        decode("G722", b"")
    with pytest.raises(ValueError):
        encode("opus", np.zeros(1, np.int16))
