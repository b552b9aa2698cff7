"""Opus for a browser that insists on it (U1, P5): transcoded to G.711 at the leg's edge.

Browsers offer G.711 too, and the switch answers with it, so a browser's call is not
transcoded. Only a browser whose offer has Opus and no G.711 gets Opus (RFC 7587:
`opus/48000/2`, 20 ms frames). Its leg's endpoint then works in A-law inside, like
every other leg (relaying, players, recorders, conference rooms, DTMF all see 8 kHz
G.711 RTP), and an `OpusEdge` translates at the wire:

- `inbound`: an Opus packet from the browser is decoded (48 kHz), resampled to 8 kHz
  and A-law encoded, 160 samples per packet; the timestamp is divided by 6;
- `outbound`: an A-law packet for the browser is decoded, resampled to 48 kHz and
  encoded as Opus (mono, VoIP application, 32 kbit/s); the timestamp is multiplied by 6
  (which stays continuous when it wraps: 6 * 2^32 = 0 modulo 2^32);
- telephone-events (RFC 4733) at 48 kHz have their timestamp and duration scaled the
  same way, nothing else changed.

The codec and the resampler are FFmpeg's libopus and libswresample through PyAV. The
resampler's filter delays its output by a few samples, so each direction keeps a
small sample queue and sends exactly one 20 ms frame per packet (padding with silence
only while the queue is first filling). Transcoding costs far more CPU than relaying
(some hundreds of µs per 20 ms frame against some µs): that is why G.711 is preferred.
"""

from __future__ import annotations

import struct

import av
import numpy as np

from vaxel.rtp.g711 import decode, encode

INSIDE_PT = 8  # A-law, the payload type the leg uses inside the switch
INSIDE_DTMF_PT = 101
RATE, OPUS_RATE = 8000, 48000
SCALE = OPUS_RATE // RATE
FRAME, OPUS_FRAME = 160, 960  # 20 ms
BIT_RATE = 32000
_HEADER = struct.Struct("!BBHII")
_MAX_QUEUED = 6  # frames: more means the peer sends faster than real time; drop the oldest


class _Queue:
    """Samples between a resampler and fixed-size frames."""

    __slots__ = ("_samples", "frame")

    def __init__(self, frame: int) -> None:
        self.frame = frame
        self._samples = np.zeros(0, np.int16)

    def put(self, samples: np.ndarray) -> None:
        queued = np.concatenate([self._samples, samples])
        self._samples = queued[-self.frame * _MAX_QUEUED :]

    def take(self) -> np.ndarray:
        samples, self._samples = self._samples[: self.frame], self._samples[self.frame :]
        if len(samples) < self.frame:  # filling up: silence first
            samples = np.concatenate([np.zeros(self.frame - len(samples), np.int16), samples])
        return samples


def _frame(samples: np.ndarray, rate: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    return frame


def _resampled(resampler: av.AudioResampler, frame: av.AudioFrame) -> np.ndarray:
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    return np.concatenate(out) if out else np.zeros(0, np.int16)


class OpusEdge:
    """The Opus side of one leg: `pt` and `dtmf_pt` are the browser's payload types."""

    def __init__(self, pt: int, dtmf_pt: int | None) -> None:
        self.pt = pt
        self.dtmf_pt = dtmf_pt
        self._decoder = av.CodecContext.create("libopus", "r")
        self._decoder.sample_rate = OPUS_RATE
        self._decoder.layout = "mono"
        self._encoder = av.CodecContext.create("libopus", "w")
        self._encoder.sample_rate = OPUS_RATE
        self._encoder.layout = "mono"
        self._encoder.format = "s16"
        self._encoder.bit_rate = BIT_RATE
        self._encoder.options = {"application": "voip", "frame_duration": "20"}
        self._encoder.open()
        self._down = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        self._up = av.AudioResampler(format="s16", layout="mono", rate=OPUS_RATE)
        self._from_browser = _Queue(FRAME)
        self._to_browser = _Queue(OPUS_FRAME)
        self._pts = 0

    def inbound(self, packet: bytes) -> bytes | None:
        """A browser's RTP packet (plain, after SRTP) as the leg's A-law packet; None for
        what is neither its audio nor its telephone-events, or does not decode."""
        offset = _payload_offset(packet)
        if offset < 0:
            return None
        _, second, seq, timestamp, ssrc = _HEADER.unpack_from(packet)
        pt = second & 0x7F
        marker = second & 0x80
        if pt == self.dtmf_pt:
            return _event(packet, INSIDE_DTMF_PT | marker, timestamp // SCALE, SCALE, divide=True)
        if pt != self.pt:
            return None
        try:
            frames = self._decoder.decode(av.Packet(packet[offset:]))
        except av.FFmpegError:
            return None
        for frame in frames:
            self._from_browser.put(_resampled(self._down, frame))
        payload = encode("PCMA", self._from_browser.take())
        header = _HEADER.pack(0x80, INSIDE_PT | marker, seq, timestamp // SCALE, ssrc)
        return header + payload

    def outbound(self, packet: bytes | bytearray) -> bytearray:
        """The leg's A-law packet as the browser's Opus packet (the same header otherwise)."""
        _, second, seq, timestamp, ssrc = _HEADER.unpack_from(packet)
        marker = second & 0x80
        wire_ts = (timestamp * SCALE) & 0xFFFFFFFF
        if second & 0x7F == INSIDE_DTMF_PT and self.dtmf_pt is not None:
            event = _event(bytes(packet), self.dtmf_pt | marker, wire_ts, SCALE, divide=False)
            return bytearray(event)
        samples = decode("PCMA", packet[12:])
        self._to_browser.put(_resampled(self._up, _frame(samples, RATE)))
        frame = _frame(self._to_browser.take(), OPUS_RATE)
        frame.pts = self._pts
        self._pts += OPUS_FRAME
        encoded = b"".join(bytes(p) for p in self._encoder.encode(frame))
        return bytearray(_HEADER.pack(0x80, self.pt | marker, seq, wire_ts, ssrc) + encoded)

    def scale_timestamp(self, timestamp: int) -> int:
        """An inside timestamp on the browser's clock (for RTCP sender reports)."""
        return (timestamp * SCALE) & 0xFFFFFFFF


def _payload_offset(packet: bytes) -> int:
    """Where an RTP packet's payload starts (past CSRCs and a header extension, RFC 3550
    §5.3.1), or -1 when the packet is shorter than its header says."""
    if len(packet) < 12:
        return -1
    offset = 12 + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10:
        if len(packet) < offset + 4:
            return -1
        offset += 4 + 4 * int.from_bytes(packet[offset + 2 : offset + 4], "big")
    return offset if offset <= len(packet) else -1


def _event(packet: bytes, pt: int, timestamp: int, scale: int, *, divide: bool) -> bytes:
    """A telephone-event packet with its payload type, timestamp and duration changed."""
    first, _, seq, _, ssrc = _HEADER.unpack_from(packet)
    payload = bytearray(packet[12:16])
    if len(payload) == 4:
        duration = int.from_bytes(payload[2:4], "big")
        duration = duration // scale if divide else min(duration * scale, 0xFFFF)
        payload[2:4] = duration.to_bytes(2, "big")
    return _HEADER.pack(first & 0xF0, pt, seq, timestamp, ssrc) + bytes(payload)
