"""G.711 A-law and µ-law (P5; ITU-T G.711; RTP names PCMA and PCMU, RFC 3551 §4.5.14).

The segment algorithms below run once, vectorised, at import to fill lookup tables: a
256-entry table per law for decoding, a 65,536-entry one (indexed by the int16 sample's bit
pattern) for encoding, and the two 256-octet code translation tables. Per-packet work is
then one numpy take or one `bytes.translate`, which is what a call moving 50 packets a
second in each direction can afford.

Linear samples are 16-bit: A-law decodes to ±8 .. ±32256, µ-law to 0 .. ±32124.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "ALAW_TO_ULAW",
    "ULAW_TO_ALAW",
    "alaw_decode",
    "alaw_encode",
    "decode",
    "encode",
    "ulaw_decode",
    "ulaw_encode",
]

Samples = npt.NDArray[np.int16]

# A-law: 13-bit magnitudes, segment ends (inclusive) of the 8 segments.
_ALAW_SEGMENT_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF], np.int32)
# µ-law: 14-bit magnitudes after adding the bias, segment ends of the 8 segments.
_ULAW_SEGMENT_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], np.int32)
_ULAW_BIAS = 0x84  # 33 in 14-bit units, as 16-bit: makes segment boundaries powers of two
_ULAW_CLIP = 8159  # largest 14-bit magnitude that still fits segment 7 after the bias


def _alaw_compress(linear: npt.NDArray[np.integer]) -> npt.NDArray[np.uint8]:
    """A-law encode 16-bit samples: 13-bit magnitude, segment, 4 bits of mantissa, even bits
    inverted (XOR 0x55) so that idle channels carry ones-dense octets."""
    pcm = linear.astype(np.int32) >> 3
    negative = pcm < 0
    # Negative values use one's complement, so -1 .. -8 share the code of 0 .. 7.
    magnitude = np.where(negative, -pcm - 1, pcm)
    segment = np.searchsorted(_ALAW_SEGMENT_END, magnitude)  # 8: beyond the last segment
    shift = np.maximum(segment, 1)
    mantissa = (magnitude >> shift) & 0x0F
    code = np.where(segment >= 8, 0x7F, (np.minimum(segment, 7) << 4) | mantissa)
    return (code ^ np.where(negative, 0x55, 0xD5)).astype(np.uint8)


def _alaw_expand(code: npt.NDArray[np.integer]) -> npt.NDArray[np.int16]:
    """A-law decode to the middle of each quantisation interval, in 16-bit scale."""
    a = code.astype(np.int32) ^ 0x55
    segment = (a >> 4) & 0x07
    t = (a & 0x0F) << 4
    t = np.where(segment == 0, t + 8, (t + 0x108) << np.maximum(segment - 1, 0))
    return np.where(a & 0x80, t, -t).astype(np.int16)


def _ulaw_compress(linear: npt.NDArray[np.integer]) -> npt.NDArray[np.uint8]:
    """µ-law encode 16-bit samples: 14-bit magnitude plus bias, segment, 4 bits of mantissa,
    all bits inverted (so silence is 0xFF)."""
    pcm = linear.astype(np.int32) >> 2
    negative = pcm < 0
    magnitude = np.minimum(np.where(negative, -pcm, pcm), _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    segment = np.searchsorted(_ULAW_SEGMENT_END, magnitude)
    mantissa = (magnitude >> (segment + 1)) & 0x0F
    code = np.where(segment >= 8, 0x7F, (np.minimum(segment, 7) << 4) | mantissa)
    return (code ^ np.where(negative, 0x7F, 0xFF)).astype(np.uint8)


def _ulaw_expand(code: npt.NDArray[np.integer]) -> npt.NDArray[np.int16]:
    """µ-law decode to the middle of each quantisation interval, in 16-bit scale."""
    u = ~code.astype(np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + _ULAW_BIAS) << ((u >> 4) & 0x07)
    return np.where(u & 0x80, _ULAW_BIAS - t, t - _ULAW_BIAS).astype(np.int16)


_CODES = np.arange(256, dtype=np.uint8)
# Every int16 sample by its bit pattern: index = sample viewed as uint16.
_LINEAR = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.int16)

_ALAW_DECODE: Samples = _alaw_expand(_CODES)
_ULAW_DECODE: Samples = _ulaw_expand(_CODES)
_ALAW_ENCODE = _alaw_compress(_LINEAR)
_ULAW_ENCODE = _ulaw_compress(_LINEAR)
for _table in (_ALAW_DECODE, _ULAW_DECODE, _ALAW_ENCODE, _ULAW_ENCODE):
    _table.flags.writeable = False

#: `payload.translate(ALAW_TO_ULAW)` turns a PCMA payload into PCMU: the per-packet
#: transcoding path between legs that negotiated different laws (no numpy, no samples).
ALAW_TO_ULAW: bytes = _ULAW_ENCODE[_ALAW_DECODE.view(np.uint16)].tobytes()
#: `payload.translate(ULAW_TO_ALAW)` turns a PCMU payload into PCMA.
ULAW_TO_ALAW: bytes = _ALAW_ENCODE[_ULAW_DECODE.view(np.uint16)].tobytes()


def alaw_decode(payload: bytes | bytearray | memoryview) -> Samples:
    """Decode a PCMA payload to int16 samples."""
    return _ALAW_DECODE[np.frombuffer(payload, np.uint8)]


def ulaw_decode(payload: bytes | bytearray | memoryview) -> Samples:
    """Decode a PCMU payload to int16 samples."""
    return _ULAW_DECODE[np.frombuffer(payload, np.uint8)]


def _as_int16(samples: npt.ArrayLike) -> Samples:
    """int16 as is; wider sums (a mixer's int32) are clipped rather than left to wrap."""
    array = np.asarray(samples)
    if array.dtype != np.int16:
        array = np.clip(array, -32768, 32767).astype(np.int16)
    return array


def alaw_encode(samples: npt.ArrayLike) -> bytes:
    """Encode int16 samples (others are clipped to int16) to a PCMA payload."""
    return _ALAW_ENCODE[_as_int16(samples).view(np.uint16)].tobytes()


def ulaw_encode(samples: npt.ArrayLike) -> bytes:
    """Encode int16 samples (others are clipped to int16) to a PCMU payload."""
    return _ULAW_ENCODE[_as_int16(samples).view(np.uint16)].tobytes()


_DECODERS = {"PCMA": alaw_decode, "PCMU": ulaw_decode}
_ENCODERS = {"PCMA": alaw_encode, "PCMU": ulaw_encode}


def decode(name: str, payload: bytes | bytearray | memoryview) -> Samples:
    """Decode a payload by its SDP encoding name ("PCMA" or "PCMU", any case, RFC 4566)."""
    try:
        return _DECODERS[name.upper()](payload)
    except KeyError:
        raise ValueError(f"not a G.711 encoding: {name!r}") from None


def encode(name: str, samples: npt.ArrayLike) -> bytes:
    """Encode int16 samples by SDP encoding name ("PCMA" or "PCMU", any case, RFC 4566)."""
    try:
        encoder = _ENCODERS[name.upper()]
    except KeyError:
        raise ValueError(f"not a G.711 encoding: {name!r}") from None
    return encoder(samples)
