"""One anchored media endpoint: the switch's RTP socket facing one leg's party (P5, O2).

A bridged endpoint hands every RTP packet its party sends to its peer
endpoint, which sends it on to its own party: with the payload type that
leg negotiated, the other G.711 law when the legs chose different ones
(one `bytes.translate` through a 256-octet table), and our own SSRC,
sequence numbers and timestamps (`StreamRewriter`), so re-INVITEs and
forks never show as a new stream. Telephone-events (RFC 4733) are relayed
with the payload type mapped, and reported once per key press (before the packet is
relayed, so the switch may keep a key to itself: `relay_events`).

Strict source (O2): once a stream has latched to the address its packets
come from (symmetric RTP, RFC 4961), packets from any other address are
dropped before they are counted, heard or relayed, so nobody who learns
the port can inject audio into the call or keep a dead call alive. A
stream may move to another address only while it is learning: for
`LEARNING` seconds after its first packet, or after new SDP reconfigured
the endpoint (a re-INVITE, a phone that changed networks). While learning,
the address the SDP names wins over any other (the "RTP bleed" defence):
a packet from another address takes the stream only if it matches the SDP
at least as well as the latched one (same host and port, then same host,
then anything). RTCP must come from the host the RTP comes from; its first
packet latches, and it moves only while the RTP stream is learning.

SRTP (O2, RFC 3711): a leg whose SDP exchange gave keys (`Answer.srtp`) has
its own two contexts (`vaxel.media.srtp`): what its party sends is
authenticated and decrypted before anything else looks at it (a packet that
fails is dropped and counted in `srtp_dropped`, and never latches the
stream), and what goes to its party is encrypted last, after the rewriter. So
every leg keeps its own keys: an SRTP leg bridged to a plain one relays
plain audio to it, two SRTP legs re-encrypt, and players, recorders,
conferences and DTMF see plain RTP as on any leg.

WebRTC (U1, O2): a browser's leg (`Answer.webrtc`) has a `WebRtcMedia` on its RTP
port that answers ICE checks and runs the DTLS handshake (`vaxel.media.webrtc`); its
SRTP contexts come from that handshake (`secure`), and RTCP shares the RTP port
(rtcp-mux). Until then the leg has no address to send to and takes no packet, so a
browser's media is never plain, and only the address ICE nominated is heard.

This is the per-packet path: no logging, no per-packet objects beyond the
datagram itself and its rewritten copy. A packet from the latched source
costs one tuple comparison, as before; only the others take the slow path.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from ipaddress import ip_address
from typing import TYPE_CHECKING, Any

from vaxel import randomness
from vaxel.media.srtp import SrtpContext
from vaxel.rtp.dtmf import EventReceiver
from vaxel.rtp.g711 import ALAW_TO_ULAW, ULAW_TO_ALAW, decode, encode
from vaxel.rtp.packet import HEADER, StreamRewriter, build
from vaxel.rtp.rtcp import (
    ReceptionStats,
    SenderReport,
    build_rr,
    build_sdes,
    build_sr,
)
from vaxel.rtp.rtcp import (
    parse as parse_rtcp,
)

if TYPE_CHECKING:
    from vaxel.media.engine import MediaEngine
    from vaxel.media.opus import OpusEdge
    from vaxel.media.player import Player, Samples
    from vaxel.media.webrtc import WebRtcMedia
    from vaxel.sip.sdp import Answer, Crypto, IceDtls

_TRANSLATE = {("PCMA", "PCMU"): ALAW_TO_ULAW, ("PCMU", "PCMA"): ULAW_TO_ALAW}

#: Seconds a stream may still move to another source address: after its first packet,
#: and again after new SDP. About 50 packets at 20 ms: enough for a NAT binding that
#: settles late, too short for a stranger to take a call over.
LEARNING = 1.0


def _literal(host: str) -> bool:
    """Only IP literals are sent to: a host name in SDP is never resolved."""
    try:
        return not ip_address(host).is_unspecified  # c=0.0.0.0 is RFC 2543 hold
    except ValueError:
        return False


class Endpoint:
    """An RTP/RTCP socket pair on the switch, bound for the life of one leg."""

    __slots__ = (
        "_events",
        "_gen_seq",
        "_gen_ssrc",
        "_gen_ts",
        "_learn_until",
        "_offered",
        "_on_played",
        "_rtcp_source",
        "_source",
        "_source_rank",
        "_translate",
        "address",
        "clock",
        "codec",
        "dtmf_pt",
        "edge",
        "engine",
        "last_received",
        "latched",
        "on_dtmf",
        "peer",
        "player",
        "port",
        "pt",
        "received",
        "relay_events",
        "remote",
        "rewriter",
        "rtcp",
        "rtcp_remote",
        "rtp",
        "sending",
        "sent",
        "sent_octets",
        "sinks",
        "source_ssrc",
        "srtp_dropped",
        "srtp_in",
        "srtp_out",
        "stats",
        "telephone_events_seen",
        "webrtc",
    )

    def __init__(
        self,
        engine: MediaEngine,
        rtp: socket.socket,
        rtcp: socket.socket,
        address: str,
        port: int,
        on_dtmf: Callable[[str], None],
    ) -> None:
        self.engine = engine
        self.clock = engine.clock
        self.rtp = rtp
        self.rtcp = rtcp
        self.address = address
        self.port = port
        self.reset(on_dtmf)

    def reset(self, on_dtmf: Callable[[str], None]) -> None:
        """Start afresh for a new leg: the engine reuses bound sockets (no syscalls per call)."""
        self.on_dtmf = on_dtmf
        self.remote: tuple[str, int] | None = None  # where the party's RTP goes
        self.latched = False
        self.codec = ""  # "PCMA" / "PCMU" once negotiated
        self.pt = -1
        self.dtmf_pt = -1
        self.sending = False  # does the party want media from us (not on hold)?
        self.peer: Endpoint | None = None
        self.rewriter = StreamRewriter()
        self.rtcp_remote: tuple[str, int] | None = None
        # Strict source: the address as recvfrom() gives it (compared as is: an IPv6 one
        # has four items),
        # how well it matches the SDP's, and until when another one may take over.
        self._source: object = None
        self._rtcp_source: object = None
        self._source_rank = 0
        self._offered: tuple[str, int] | None = None  # the RTP address the SDP names
        self._learn_until = 0.0
        self.last_received = 0.0
        self.received = 0
        self.sent = 0
        self.sent_octets = 0
        self.stats = ReceptionStats()  # of what the party sends us, for our reports
        self.source_ssrc = 0
        self._events = EventReceiver()
        self.telephone_events_seen = False
        # False while the switch keeps the party's keys to itself (an in-call code being
        # dialled): its telephone-events are reported but not relayed to the peer.
        self.relay_events = True
        self._translate: bytes | None = None
        # Audio the switch itself plays to the party (prompts, music on hold): its own
        # source, which the rewriter splices into the leg's one outgoing stream.
        self.player: Player | None = None
        self._on_played: Callable[[], None] | None = None
        self._gen_ssrc = randomness.randbits(32)
        self._gen_seq = 0
        self._gen_ts = 0
        # Who listens to the party's decoded audio (a recorder, an in-band DTMF detector).
        self.sinks: list[Callable[[Samples], None]] = []
        # SRTP (O2): what the party sends is unprotected with `srtp_in`, what goes to it is
        # protected with `srtp_out`; None for plain RTP.
        self.srtp_in: SrtpContext | None = None
        self.srtp_out: SrtpContext | None = None
        self.srtp_dropped = 0  # packets that failed authentication (or replayed)
        # WebRTC (U1): ICE-lite and DTLS on the RTP port, for a browser's leg only.
        self.webrtc: WebRtcMedia | None = None
        # Opus at the wire, A-law inside (a browser that insists on Opus): None otherwise.
        self.edge: OpusEdge | None = None

    def park(self, on_dtmf: Callable[[str], None]) -> None:
        """Idle until reused: drop what refers to the old call, ignore what still arrives.

        `reset` makes the rest new when the engine hands the endpoint out again.
        """
        self.on_dtmf = on_dtmf
        self.codec = ""  # readable() drops packets while there is no codec
        self.sending = False
        self.peer = None
        self.player = None
        self._on_played = None
        self.sinks = []
        self.remote = self.rtcp_remote = None
        self._source = self._rtcp_source = self._offered = None
        self.srtp_in = self.srtp_out = None  # the keys go with the call
        if self.webrtc is not None:
            self.webrtc.close()
            self.webrtc = None
        self.edge = None

    def configure(self, answer: Answer, *, sending: bool) -> None:
        """Apply an offer/answer outcome: codec, DTMF payload type, the party's address.

        New SDP opens the learning window again: a phone that moved sends a
        re-INVITE, and its packets then come from somewhere else. A new
        address is sent to at once and latched afresh; with the same one, the
        latched source stays until a better one arrives within the window.
        SRTP keys (`answer.srtp`) take effect at once; a key that did not change
        keeps its context (its rollover counter and replay window).
        """
        if answer.webrtc is not None:
            self.ice()
            assert self.webrtc is not None
            self.webrtc.negotiated(answer.webrtc)
        else:
            self._use_keys(answer)
        self.dtmf_pt = answer.dtmf_pt if answer.dtmf_pt is not None else -1
        if answer.codec is not None and answer.codec.name == "OPUS":
            self._use_opus(answer.codec.pt, answer.dtmf_pt)
        elif answer.codec is not None:
            self.edge = None
            self.codec = answer.codec.name
            self.pt = answer.codec.pt
        # A browser's address is the one ICE nominates, never its SDP's.
        remote = answer.remote if answer.webrtc is None else None
        if remote is not None and _literal(remote[0]):
            if remote != self._offered:
                self._offered = self.remote = remote
                self.latched = False  # a new address: latch again to what really arrives
                self._source = self._rtcp_source = None
                if answer.remote_rtcp is not None and _literal(answer.remote_rtcp[0]):
                    self.rtcp_remote = answer.remote_rtcp
            self._learn_until = self.clock() + LEARNING
        self.sending = sending and (remote is not None or answer.webrtc is not None)
        self._recompute()
        if self.peer is not None:
            self.peer._recompute()

    def _use_opus(self, pt: int, dtmf_pt: int | None) -> None:
        """A browser that insists on Opus: A-law inside, Opus at the wire (`media.opus`)."""
        from vaxel.media.opus import INSIDE_DTMF_PT, INSIDE_PT, OpusEdge

        edge = self.edge
        if edge is None or edge.pt != pt or edge.dtmf_pt != dtmf_pt:
            self.edge = OpusEdge(pt, dtmf_pt)
        self.codec, self.pt = "PCMA", INSIDE_PT
        self.dtmf_pt = INSIDE_DTMF_PT if dtmf_pt is not None else -1

    def _use_keys(self, answer: Answer) -> None:
        keys = answer.srtp
        if keys is None:
            self.srtp_in = self.srtp_out = None
            return
        srtp_out = self.srtp_out
        if srtp_out is None or srtp_out.crypto != keys.local:
            self.srtp_out = SrtpContext(keys.local, outbound=True)
        srtp_in = self.srtp_in
        if srtp_in is None or srtp_in.crypto != keys.remote:
            self.srtp_in = SrtpContext(keys.remote, outbound=False)

    def ice(self) -> IceDtls:
        """Our ICE credentials and DTLS fingerprint for a browser on this leg (made on first
        use, then kept for the leg's life: a re-offer must not restart ICE)."""
        webrtc = self.webrtc
        if webrtc is None:
            from vaxel.media.dtls import certificate
            from vaxel.media.webrtc import WebRtcMedia
            from vaxel.sip.sdp import IceDtls

            local = IceDtls(
                randomness.token_hex(4), randomness.token_hex(16), certificate().fingerprint
            )
            webrtc = self.webrtc = WebRtcMedia(self, local)
        return webrtc.local

    def secure(self, keys: tuple[Crypto, Crypto], address: tuple[str, int]) -> None:
        """A browser's DTLS handshake gave the keys, and ICE the address: media may flow.

        `keys` is (ours, the browser's); only `address` is heard from now on (the
        source ICE checked and nominated: nobody else may take the stream over).
        """
        local, remote = keys
        srtp_out = self.srtp_out
        if srtp_out is None or srtp_out.crypto != local:
            self.srtp_out = SrtpContext(local, outbound=True)
        srtp_in = self.srtp_in
        if srtp_in is None or srtp_in.crypto != remote:
            self.srtp_in = SrtpContext(remote, outbound=False)
        self.remote = self.rtcp_remote = address
        self._source = self._rtcp_source = None  # the first packet from `address` latches
        self._offered = address
        self._learn_until = 0.0
        self.latched = False

    def unsecure(self) -> None:
        """A new DTLS association is being made: nothing flows until it is done."""
        self.srtp_in = self.srtp_out = None
        self.remote = self.rtcp_remote = None

    def _recompute(self) -> None:
        peer = self.peer
        self._translate = None if peer is None else _TRANSLATE.get((self.codec, peer.codec))

    # -- strict source ----------------------------------------------------------------

    def _rank(self, source: tuple[Any, ...]) -> int:
        """How well an address matches the SDP's: 2 host and port, 1 host, 0 not at all."""
        offered = self._offered
        if offered is None or source[0] != offered[0]:
            return 0
        return 2 if source[1] == offered[1] else 1

    def _admit(self, source: tuple[Any, ...]) -> bool:
        """A packet from an address other than the latched source: latch to it, or drop it.

        The first packet after new SDP latches; later, another address takes over
        only while the stream is learning and if it matches the SDP at least as well.
        """
        now = self.clock()
        rank = self._rank(source)
        if self.webrtc is not None:
            # A browser's stream: only from the address ICE nominated (`secure`).
            if self._offered is None or (source[0], source[1]) != self._offered:
                return False
        elif self._source is None:
            self._learn_until = max(self._learn_until, now + LEARNING)
        elif now >= self._learn_until or rank < self._source_rank:
            return False
        if self.remote is None or source[0] != self.remote[0]:
            self._rtcp_source = None  # another host: its RTCP latches afresh
        self._source = source
        self._source_rank = rank
        self.remote = (source[0], source[1])  # symmetric RTP (RFC 4961): answer it there
        self.latched = True
        return True

    def _admit_rtcp(self, source: tuple[Any, ...]) -> bool:
        """RTCP from an address other than the latched one: only from the RTP's host,
        latched once, and moved only while the RTP stream is learning."""
        remote = self.remote
        if remote is None or source[0] != remote[0]:
            return False
        if self._rtcp_source is not None and self.clock() >= self._learn_until:
            return False
        self._rtcp_source = source
        self.rtcp_remote = (source[0], source[1])
        return True

    # -- the per-packet path --------------------------------------------------------

    def readable(self) -> None:
        """Drain the RTP socket (the event loop calls this when datagrams are waiting)."""
        sock = self.rtp
        while True:
            try:
                data, source = sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # an ICMP error for something we sent earlier
                continue
            if len(data) < 12 or data[0] & 0xC0 != 0x80 or not self.codec:
                webrtc = self.webrtc
                if webrtc is not None and data and data[0] < 64:
                    webrtc.receive(data, source)  # an ICE check or DTLS (RFC 7983)
                continue  # not RTP, or the endpoint is idle (released, or not negotiated yet)
            srtp = self.srtp_in
            if srtp is not None:
                if self.webrtc is not None and 191 < data[1] < 224:
                    self._muxed_rtcp(data, source)  # RTCP on the RTP port (RFC 5761 §4)
                    continue
                plain = srtp.unprotect(data)
                if plain is None:
                    self.srtp_dropped += 1  # forged, replayed, or not our key
                    continue
                data = plain
            elif self.webrtc is not None:
                continue  # a browser's leg before its keys: nothing plain is taken
            edge = self.edge
            if edge is not None:
                inside = edge.inbound(data)  # Opus from a browser, as A-law
                if inside is None:
                    continue
                data = inside
            if source != self._source and not self._admit(source):
                continue  # strict source: not the party's address
            self.received += 1
            now = self.last_received = self.clock()
            _, b1, seq, timestamp, self.source_ssrc = HEADER.unpack_from(data)
            self.stats.update(seq, timestamp, now)
            pt = b1 & 0x7F
            peer = self.peer
            if pt == self.pt:
                if self.sinks:
                    samples = decode(self.codec, data[12:])
                    for sink in list(self.sinks):
                        sink(samples)
                if peer is None or not peer.sending or peer.player is not None:
                    continue
                out_pt = peer.pt
                if self._translate is not None:
                    data = data[:12] + data[12:].translate(self._translate)
            elif pt == self.dtmf_pt:
                self.telephone_events_seen = True
                pressed = self._events.feed(timestamp, data[12:16])
                if pressed is not None:
                    self.on_dtmf(pressed)
                if peer is None or peer.dtmf_pt < 0 or not peer.sending or not self.relay_events:
                    continue
                out_pt = peer.dtmf_pt
            else:
                continue  # comfort noise, or a codec nobody negotiated
            packet = peer.rewriter.rewrite(data, out_pt, now)
            if packet is not None and peer.remote is not None:
                octets = len(packet) - 12
                if peer.edge is not None:
                    packet = peer.edge.outbound(packet)
                protect = peer.srtp_out
                wire = packet if protect is None else protect.protect(packet)
                if wire is None:
                    continue
                try:
                    peer.rtp.sendto(wire, peer.remote)
                except OSError:
                    continue
                peer.sent += 1
                peer.sent_octets += octets

    def rtcp_readable(self) -> None:
        """Drain RTCP: note the party's sender reports (for our LSR/DLSR), latch its address
        (strict source, as for RTP).

        Reports are generated per leg (`report`), not relayed across the bridge:
        each leg's party sees the stream the switch sends it.
        """
        sock = self.rtcp
        while True:
            try:
                data, source = sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue
            srtp = self.srtp_in
            if srtp is not None:
                plain = srtp.unprotect_rtcp(data)
                if plain is None:
                    self.srtp_dropped += 1
                    continue
                data = plain
            try:
                packets = parse_rtcp(data)
            except ValueError:
                continue
            if source != self._rtcp_source and not self._admit_rtcp(source):
                continue
            for packet in packets:
                if isinstance(packet, SenderReport):
                    self.stats.sr_received(packet.ntp_middle32, self.clock())

    def _muxed_rtcp(self, data: bytes, source: tuple[Any, ...]) -> None:
        """A browser's SRTCP, on the RTP port: from the RTP's source only."""
        srtp = self.srtp_in
        if srtp is None or source != self._source:
            return
        plain = srtp.unprotect_rtcp(data)
        if plain is None:
            self.srtp_dropped += 1
            return
        try:
            packets = parse_rtcp(plain)
        except ValueError:
            return
        for packet in packets:
            if isinstance(packet, SenderReport):
                self.stats.sr_received(packet.ntp_middle32, self.clock())

    def report(self, cname: str) -> None:
        """Send the party an RTCP compound report: SR if we sent media, else RR, + SDES."""
        destination = self.rtcp_remote
        if destination is None and self.remote is not None:
            destination = (self.remote[0], self.remote[1] + 1)
        if destination is None:
            return
        sock = self.rtcp if self.webrtc is None else self.rtp  # rtcp-mux for a browser
        now = self.clock()
        blocks = [self.stats.report_block(self.source_ssrc, now)] if self.received else []
        ssrc = self.rewriter.ssrc
        if self.sent:
            rtp_ts = self.rewriter.last_timestamp
            if self.edge is not None:
                rtp_ts = self.edge.scale_timestamp(rtp_ts)
            packet = build_sr(ssrc, now, rtp_ts, self.sent, self.sent_octets, blocks)
        else:
            packet = build_rr(ssrc, blocks)
        packet += build_sdes(ssrc, cname)
        srtp = self.srtp_out
        if srtp is not None:
            protected = srtp.protect_rtcp(packet)
            if protected is None:
                return
            packet = protected
        with contextlib.suppress(OSError):
            sock.sendto(packet, destination)

    # -- what the switch plays to the party -----------------------------------------

    def play(self, player: Player, on_done: Callable[[], None]) -> None:
        """Play to the party instead of relaying the peer; `on_done` when the player ends."""
        self.player = player
        self._on_played = on_done
        self.engine.pacer.subscribe(self.tick)

    def stop_playing(self) -> bool:
        """Stop the player without calling its `on_done`; True if one was playing."""
        if self.player is None:
            return False
        self.player = None
        self._on_played = None
        self.engine.pacer.unsubscribe(self.tick)
        return True

    def tick(self) -> None:
        """One 20 ms frame of the player to the party (the shared media clock calls this)."""
        player = self.player
        if player is None:
            return
        frame = player.next_frame()
        if frame is None:
            on_done = self._on_played
            self.stop_playing()
            if on_done is not None:
                on_done()
            return
        # Encoded only when it is sent (not while the party holds the call).
        self.send_frame(encode(self.codec, frame) if self.sending and self.codec else b"")

    def send_frame(self, payload: bytes) -> None:
        """Send the party one 20 ms frame the switch made, already in the leg's codec (a
        player's frame, a conference room's mix), as the leg's generated source.

        Sequence number and timestamp move on also while the party is on hold, so the
        stream resumes where wall time is.
        """
        self._gen_seq = (self._gen_seq + 1) & 0xFFFF
        self._gen_ts = (self._gen_ts + 160) & 0xFFFFFFFF  # 20 ms at 8 kHz
        if not self.sending or self.remote is None or not self.codec:
            return
        packet = build(self.pt, self._gen_seq, self._gen_ts, self._gen_ssrc, payload)
        out = self.rewriter.rewrite(bytearray(packet), self.pt, self.clock())
        if out is None:
            return
        octets = len(out) - 12
        if self.edge is not None:
            out = self.edge.outbound(out)
        srtp = self.srtp_out
        wire = out if srtp is None else srtp.protect(out)
        if wire is not None:
            with contextlib.suppress(OSError):
                self.rtp.sendto(wire, self.remote)
                self.sent += 1
                self.sent_octets += octets

    def close(self) -> None:
        self.stop_playing()
        self.sinks.clear()
        self.engine.release(self)
