"""SDP (P2, P5, O2): session descriptions (RFC 4566), audio offer/answer (RFC 3264) and SDES
keys for SRTP (RFC 4568), sans-I/O.

Only what a PBX acts on is interpreted: origin, connection, media lines and
a few attributes. Every other line is kept as sent, in order, so an SDP we
relay or re-send goes out the way it came in.

SRTP (O2): an `RTP/SAVP` stream carries `a=crypto` lines, each a suite and the
offerer's master key. We answer the first line whose suite we support
(`SRTP_SUITES`) and whose session parameters we can honour, with our own key,
and refuse with 488 what we cannot meet. Keys never appear in a repr;
`redact_keys` takes them out of a message before it is logged.

WebRTC (U1, O2): a browser's stream is `UDP/TLS/RTP/SAVPF` (RFC 8829): ICE credentials
(RFC 8839), the fingerprint of its DTLS certificate (RFC 8122) and its DTLS role
(`a=setup`, RFC 4145/8842), RTP and RTCP on one port (`a=rtcp-mux`, RFC 5761). The
switch is an ICE-lite agent (RFC 8445 §2.5): one host candidate, its media port; it
answers the browser's checks and learns the browser's address from them. The keys
come from the DTLS handshake on that port (RFC 5764), so the SDP carries none: what is
negotiated here is `WebRtcSession`, both sides' `IceDtls`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from vaxel.sip.errors import RemoteProtocolError

# __init__s are written out: mypyc compiles them, not the dataclass-generated ones.

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
# direction -> (sends, receives), from the point of view of the SDP's author.
_FLAGS = {
    "sendrecv": (True, True),
    "sendonly": (True, False),
    "recvonly": (False, True),
    "inactive": (False, False),
}
_BY_FLAGS = {flags: name for name, flags in _FLAGS.items()}

HOLD_ADDRESS = "0.0.0.0"  # RFC 2543 hold, still sent by old phones (RFC 3264 §8.4)
AUDIO_PROTO = "RTP/AVP"
SAVP_PROTO = "RTP/SAVP"  # RFC 3711 §12: SRTP, keyed here by a=crypto (RFC 4568)
# RFC 5764 §8: SRTP keyed by DTLS, with RTCP feedback: what browsers offer (RFC 8829 §5.1.2).
DTLS_PROTO = "UDP/TLS/RTP/SAVPF"
_DTLS_PROTOS = (DTLS_PROTO, "UDP/TLS/RTP/SAVP")
TELEPHONE_EVENT = "telephone-event"
DTMF_EVENTS = range(17)  # RFC 4733 §3.2: 0-9 * # A-D and flash (16)
PTIME = 20

# Lines we do not interpret are kept in `other` and written back in the slot
# RFC 4566 §5 gives them: these before c=, the rest (r= z= k= and unknown
# types) after t= at session level, after b= in a media section.
_SESSION_OTHER_EARLY = "iuep"
_MEDIA_OTHER_EARLY = "i"


class RtpMap(NamedTuple):
    encoding: str
    clock: int
    channels: int = 1


# RFC 3551 §6 static payload types a peer may list without an rtpmap.
STATIC_PAYLOADS = {
    "0": RtpMap("PCMU", 8000), "3": RtpMap("GSM", 8000), "4": RtpMap("G723", 8000),
    "8": RtpMap("PCMA", 8000), "9": RtpMap("G722", 8000), "13": RtpMap("CN", 8000),
    "18": RtpMap("G729", 8000),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Codec:
    name: str
    pt: int
    clock: int

    def __init__(self, name: str, pt: int, clock: int) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "pt", pt)
        object.__setattr__(self, "clock", clock)


CODECS = {"PCMU": Codec("PCMU", 0, 8000), "PCMA": Codec("PCMA", 8, 8000)}
# Taken from a browser that offers nothing else, transcoded at its leg (media/opus.py);
# never offered.
OPUS = "OPUS"


#: The SDES suites we can meet (RFC 4568 §6.2), in the order we offer them: both AES in
#: counter mode with a 128-bit key, a 112-bit salt and HMAC-SHA1 (80 or 32 bits of tag).
SRTP_SUITES = ("AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32")
SRTP_KEY_LENGTH = 30  # master key (16 octets) + master salt (14), as inline: carries them
# Session parameters (RFC 4568 §6.3) we honour; a line with any other one is not met.
_MET_PARAMS = ("WSH=", "FEC_ORDER=")
_INLINE = re.compile(r"(inline:)[A-Za-z0-9+/=]+")


def redact_keys(text: str) -> str:
    """`text` (a SIP message, an SDP) with every SDES key replaced, for logs and traces."""
    return _INLINE.sub(r"\1[redacted]", text)


def _bad(reason: str) -> RemoteProtocolError:
    return RemoteProtocolError(f"SDP: {reason}", 400)


@dataclass(slots=True)
class Origin:
    """o= (RFC 4566 §5.2). sess_id is opaque to us; sess_version is counted."""

    username: str
    sess_id: str
    sess_version: int
    nettype: str = "IN"
    addrtype: str = "IP4"
    address: str = "127.0.0.1"

    def __init__(
        self,
        username: str,
        sess_id: str,
        sess_version: int,
        nettype: str = "IN",
        addrtype: str = "IP4",
        address: str = "127.0.0.1",
    ) -> None:
        self.username = username
        self.sess_id = sess_id
        self.sess_version = sess_version
        self.nettype = nettype
        self.addrtype = addrtype
        self.address = address

    @classmethod
    def parse(cls, value: str) -> Origin:
        parts = value.split()
        if len(parts) != 6 or not parts[2].isdigit():
            raise _bad(f"bad o= line {value!r}")
        return cls(parts[0], parts[1], int(parts[2]), parts[3], parts[4], parts[5])

    def __str__(self) -> str:
        return (
            f"{self.username} {self.sess_id} {self.sess_version} "
            f"{self.nettype} {self.addrtype} {self.address}"
        )


@dataclass(slots=True)
class Connection:
    """c= (RFC 4566 §5.7); `address` keeps a multicast /ttl/count suffix."""

    nettype: str
    addrtype: str
    address: str

    def __init__(self, nettype: str, addrtype: str, address: str) -> None:
        self.nettype = nettype
        self.addrtype = addrtype
        self.address = address

    @classmethod
    def parse(cls, value: str) -> Connection:
        parts = value.split()
        if len(parts) != 3:
            raise _bad(f"bad c= line {value!r}")
        return cls(*parts)

    @classmethod
    def for_address(cls, address: str) -> Connection:
        return cls("IN", _addrtype(address), address)

    @property
    def host(self) -> str:
        return self.address.split("/", 1)[0]

    def __str__(self) -> str:
        return f"{self.nettype} {self.addrtype} {self.address}"


@dataclass(frozen=True, slots=True, repr=False)
class Crypto:
    """One a=crypto line (RFC 4568 §4) for SRTP: a suite and one master key.

    `key` is the master key and salt (`SRTP_KEY_LENGTH` octets). With an MKI
    (`mki_length` > 0), every packet carries `mki` in that many octets to say
    which key it uses (RFC 3711 §3.1). `window` is the replay window asked
    for (WSH), 0 for the default. The repr names no key.
    """

    tag: int
    suite: str
    key: bytes
    mki: int
    mki_length: int
    window: int

    def __init__(
        self, tag: int, suite: str, key: bytes, mki: int = 0, mki_length: int = 0, window: int = 0
    ) -> None:
        object.__setattr__(self, "tag", tag)
        object.__setattr__(self, "suite", suite)
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "mki", mki)
        object.__setattr__(self, "mki_length", mki_length)
        object.__setattr__(self, "window", window)

    def __repr__(self) -> str:
        return f"Crypto(tag={self.tag}, suite={self.suite!r}, key=<{len(self.key)} octets>)"

    @classmethod
    def parse(cls, value: str) -> Crypto | None:
        """An a=crypto value we can meet, else None (another suite, several keys, a session
        parameter we do not honour, a malformed line: RFC 4568 §5.1.2 says skip it)."""
        parts = value.split()
        if len(parts) < 3 or not parts[0].isdigit() or len(parts[0]) > 9:
            return None
        if parts[1] not in SRTP_SUITES or ";" in parts[2] or not parts[2].startswith("inline:"):
            return None
        window = 0
        for param in parts[3:]:
            if not param.startswith(_MET_PARAMS):
                return None  # UNENCRYPTED_SRTP, KDR, FEC_KEY ...: not what we do
            if param.startswith("WSH="):
                if not param[4:].isdigit():
                    return None
                window = int(param[4:])
        fields = parts[2][len("inline:") :].split("|")
        try:
            key = base64.b64decode(fields[0], validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(key) != SRTP_KEY_LENGTH or len(fields) > 3:
            return None
        mki = mki_length = 0
        for item in fields[1:]:
            if ":" in item:  # mki-value ":" mki-length (in octets, 1-128)
                number, _, length = item.partition(":")
                if not (number.isdigit() and length.isdigit() and 1 <= int(length) <= 128):
                    return None
                mki, mki_length = int(number), int(length)
                if mki >= 256**mki_length:
                    return None
            elif not item.removeprefix("2^").isdigit():  # the key's lifetime: not renewed
                return None
        return cls(int(parts[0]), parts[1], key, mki, mki_length, window)

    def __str__(self) -> str:
        inline = base64.b64encode(self.key).decode("ascii")
        if self.mki_length:
            inline += f"|{self.mki}:{self.mki_length}"
        return f"{self.tag} {self.suite} inline:{inline}"

    def mki_bytes(self) -> bytes:
        """The MKI field of our packets (empty without one)."""
        return self.mki.to_bytes(self.mki_length, "big") if self.mki_length else b""


@dataclass(frozen=True, slots=True)
class SrtpKeys:
    """The outcome of an SDES exchange: the suite, the key and MKI we protect what we send
    with (`local`), and those the party protects what it sends with (`remote`)."""

    local: Crypto
    remote: Crypto

    def __init__(self, local: Crypto, remote: Crypto) -> None:
        object.__setattr__(self, "local", local)
        object.__setattr__(self, "remote", remote)

    @property
    def suite(self) -> str:
        return self.local.suite


def crypto_lines(media: MediaDescription) -> list[Crypto]:
    """The a=crypto lines of a stream we can meet, in the order given (the offerer's
    preference)."""
    found: list[Crypto] = []
    for value in media.values("crypto"):
        crypto = Crypto.parse(value) if value else None
        if crypto is not None:
            found.append(crypto)
    return found


#: What a WebRTC answer may say of its DTLS role (RFC 4145 §4), and who then sends the
#: ClientHello: "active" is the DTLS client.
SETUP_ROLES = ("actpass", "active", "passive")


@dataclass(frozen=True, slots=True)
class IceDtls:
    """One side's ICE credentials and DTLS certificate fingerprint in a WebRTC stream.

    `fingerprint` is the a=fingerprint value, "sha-256 AB:CD:..." (RFC 8122 §5); `setup`
    one of `SETUP_ROLES`. Our own `pwd` keys the ICE checks' MESSAGE-INTEGRITY: it never
    appears in a repr.
    """

    ufrag: str
    pwd: str
    fingerprint: str
    setup: str = "actpass"

    def __init__(self, ufrag: str, pwd: str, fingerprint: str, setup: str = "actpass") -> None:
        object.__setattr__(self, "ufrag", ufrag)
        object.__setattr__(self, "pwd", pwd)
        object.__setattr__(self, "fingerprint", fingerprint)
        object.__setattr__(self, "setup", setup)

    def __repr__(self) -> str:
        return f"IceDtls(ufrag={self.ufrag!r}, setup={self.setup!r})"

    def with_setup(self, setup: str) -> IceDtls:
        return IceDtls(self.ufrag, self.pwd, self.fingerprint, setup)


@dataclass(frozen=True, slots=True)
class WebRtcSession:
    """The outcome of a WebRTC offer/answer: ours and the browser's `IceDtls`."""

    local: IceDtls
    remote: IceDtls

    def __init__(self, local: IceDtls, remote: IceDtls) -> None:
        object.__setattr__(self, "local", local)
        object.__setattr__(self, "remote", remote)

    @property
    def dtls_server(self) -> bool:
        """Do we wait for the ClientHello (RFC 8842 §5.1: the "active" side sends it)?"""
        if self.local.setup == "actpass":
            return self.remote.setup != "passive"
        return self.local.setup == "passive"


def offers_webrtc(offer: SessionDescription) -> bool:
    """Does the offer have a browser's audio stream (DTLS-SRTP)?"""
    return any(m.proto in _DTLS_PROTOS and m.port != 0 for m in offer.media)


def _ice_dtls(sd: SessionDescription, media: MediaDescription) -> IceDtls | None:
    """The browser's ICE and DTLS parameters of a stream (media level, else session level),
    or None when one is missing or it does not multiplex RTCP (what we require)."""

    def value(name: str) -> str | None:
        return media.attribute(name) or sd.attribute(name)

    ufrag, pwd, fingerprint = value("ice-ufrag"), value("ice-pwd"), value("fingerprint")
    setup = (value("setup") or "actpass").lower()
    if not (ufrag and pwd and fingerprint) or setup not in SETUP_ROLES:
        return None
    if not media.has("rtcp-mux"):
        return None
    algorithm, _, digest = fingerprint.partition(" ")
    if algorithm.lower() != "sha-256" or not digest:
        return None
    return IceDtls(ufrag, pwd, f"sha-256 {digest.strip().upper()}", setup)


def _webrtc_attributes(
    media: MediaDescription, ours: IceDtls, address: str, port: int, mid: str | None
) -> None:
    """Our ICE-lite and DTLS lines on a stream: credentials, fingerprint, role, one host
    candidate (RFC 8839 §5.1), RTCP on the RTP port."""
    if mid is not None:
        media.attributes.insert(0, ("mid", mid))
    media.attributes += [
        ("ice-ufrag", ours.ufrag), ("ice-pwd", ours.pwd),
        ("fingerprint", ours.fingerprint), ("setup", ours.setup), ("rtcp-mux", None),
        ("candidate", f"1 1 udp 2130706431 {address} {port} typ host"),
        ("end-of-candidates", None),
    ]  # fmt: skip


def _bundle(offer: SessionDescription, mid: str | None) -> str | None:
    """Our a=group:BUNDLE for an answer: the one stream we accept, if the offer bundles it."""
    for value in offer.values("group"):
        kind, _, mids = (value or "").partition(" ")
        if kind == "BUNDLE" and mid is not None and mid in mids.split():
            return f"BUNDLE {mid}"
    return None


def _addrtype(address: str) -> str:
    return "IP6" if ":" in address else "IP4"


class _Attributes:
    """a= lines as an ordered list of (name, value); value is None for a flag."""

    __slots__ = ()
    attributes: list[tuple[str, str | None]]

    def attribute(self, name: str) -> str | None:
        """The value of the first `name` attribute (None if absent or a flag)."""
        return next((v for n, v in self.attributes if n == name), None)

    def values(self, name: str) -> list[str | None]:
        return [v for n, v in self.attributes if n == name]

    def has(self, name: str) -> bool:
        return any(n == name for n, _ in self.attributes)

    def set_attribute(self, name: str, value: str | None = None) -> None:
        """Replace every `name` attribute by one, where the first one was."""
        for i, (n, _) in enumerate(self.attributes):
            if n == name:
                self.attributes[i] = (name, value)
                self.attributes[i + 1 :] = [a for a in self.attributes[i + 1 :] if a[0] != name]
                return
        self.attributes.append((name, value))

    def remove_attribute(self, name: str) -> None:
        self.attributes[:] = [a for a in self.attributes if a[0] != name]

    @property
    def direction(self) -> str | None:
        """The direction attribute written at this level, if any."""
        return next((n for n, _ in self.attributes if n in _FLAGS), None)

    def set_direction(self, direction: str) -> None:
        if direction not in _FLAGS:
            raise ValueError(f"not an SDP direction: {direction!r}")
        self.attributes[:] = [a for a in self.attributes if a[0] not in _FLAGS]
        self.attributes.append((direction, None))


def _attribute_line(name: str, value: str | None) -> str:
    return f"a={name}" if value is None else f"a={name}:{value}"


@dataclass(slots=True, repr=False)
class MediaDescription(_Attributes):
    """One m= section (RFC 4566 §5.14) with its c=, b= and a= lines; its repr is its lines
    with any SDES key redacted."""

    media: str
    port: int
    proto: str
    formats: list[str]
    port_count: int | None = None
    connection: Connection | None = None
    bandwidths: list[str] = field(default_factory=list)
    attributes: list[tuple[str, str | None]] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)  # i=, k=, unknown types

    def __init__(
        self,
        media: str,
        port: int,
        proto: str,
        formats: list[str],
        port_count: int | None = None,
        connection: Connection | None = None,
        bandwidths: list[str] | None = None,
        attributes: list[tuple[str, str | None]] | None = None,
        other: list[tuple[str, str]] | None = None,
    ) -> None:
        self.media = media
        self.port = port
        self.proto = proto
        self.formats = formats
        self.port_count = port_count
        self.connection = connection
        self.bandwidths = [] if bandwidths is None else bandwidths
        self.attributes = [] if attributes is None else attributes
        self.other = [] if other is None else other

    @classmethod
    def parse(cls, value: str) -> MediaDescription:
        parts = value.split()
        if len(parts) < 3:
            raise _bad(f"bad m= line {value!r}")
        port, _, count = parts[1].partition("/")
        if not port.isdigit() or int(port) > 65535 or (count and not count.isdigit()):
            raise _bad(f"bad port in m= line {value!r}")
        return cls(parts[0], int(port), parts[2], parts[3:], int(count) if count else None)

    def rtpmap(self, pt: str) -> RtpMap | None:
        """What payload type `pt` carries: its a=rtpmap, else the RFC 3551 static entry."""
        prefix = f"{pt} "
        for value in self.values("rtpmap"):
            if value and value.startswith(prefix):
                encoding, _, rest = value[len(prefix) :].strip().partition("/")
                clock, _, channels = rest.partition("/")
                if clock.isdigit() and (not channels or channels.isdigit()):
                    return RtpMap(encoding, int(clock), int(channels or 1))
                return None
        return STATIC_PAYLOADS.get(pt)

    def fmtp(self, pt: str) -> str | None:
        prefix = f"{pt} "
        return next(
            (v[len(prefix) :] for v in self.values("fmtp") if v and v.startswith(prefix)), None
        )

    @property
    def ptime(self) -> int | None:
        value = self.attribute("ptime")
        try:
            return round(float(value)) if value else None
        except ValueError:
            return None

    @property
    def rtcp(self) -> tuple[int, str | None] | None:
        """a=rtcp (RFC 3605): the RTCP port and, when given, its address."""
        parts = (self.attribute("rtcp") or "").split()
        if not parts or not parts[0].isdigit():
            return None
        return int(parts[0]), parts[3] if len(parts) == 4 else None

    def __repr__(self) -> str:
        return f"MediaDescription({redact_keys(' | '.join(self.lines()))!r})"

    def lines(self) -> list[str]:
        port = f"{self.port}/{self.port_count}" if self.port_count is not None else str(self.port)
        out = [" ".join(["m=" + self.media, port, self.proto, *self.formats])]
        out += [f"{k}={v}" for k, v in self.other if k in _MEDIA_OTHER_EARLY]
        if self.connection is not None:
            out.append(f"c={self.connection}")
        out += [f"b={b}" for b in self.bandwidths]
        out += [f"{k}={v}" for k, v in self.other if k not in _MEDIA_OTHER_EARLY]
        out += [_attribute_line(n, v) for n, v in self.attributes]
        return out


@dataclass(slots=True)
class SessionDescription(_Attributes):
    """A whole SDP body. `bytes(sd)` writes it back with CRLF line ends."""

    origin: Origin
    name: str = "-"
    connection: Connection | None = None
    bandwidths: list[str] = field(default_factory=list)
    times: list[str] = field(default_factory=lambda: ["0 0"])
    attributes: list[tuple[str, str | None]] = field(default_factory=list)
    media: list[MediaDescription] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)  # i= u= e= p= r= z= k= ...

    def __init__(
        self,
        origin: Origin,
        name: str = "-",
        connection: Connection | None = None,
        bandwidths: list[str] | None = None,
        times: list[str] | None = None,
        attributes: list[tuple[str, str | None]] | None = None,
        media: list[MediaDescription] | None = None,
        other: list[tuple[str, str]] | None = None,
    ) -> None:
        self.origin = origin
        self.name = name
        self.connection = connection
        self.bandwidths = [] if bandwidths is None else bandwidths
        self.times = ["0 0"] if times is None else times
        self.attributes = [] if attributes is None else attributes
        self.media = [] if media is None else media
        self.other = [] if other is None else other

    @classmethod
    def parse(cls, data: bytes) -> SessionDescription:
        """Parse an SDP body; LF-only line ends are accepted. Bad SDP raises a 400."""
        text = data.decode("utf-8", "surrogateescape")
        lines = [line.rstrip("\r") for line in text.split("\n")]
        lines = [line for line in lines if line.strip()]
        if not lines or lines[0] != "v=0":
            raise _bad("must start with v=0")
        origin: Origin | None = None
        name: str | None = None
        session = cls(Origin("-", "0", 0), times=[])
        section: SessionDescription | MediaDescription = session
        for line in lines[1:]:
            kind, eq, value = line[:1], line[1:2], line[2:]
            if eq != "=" or not kind.isalpha():
                raise _bad(f"bad line {line[:40]!r}")
            if kind == "m":
                section = MediaDescription.parse(value)
                session.media.append(section)
            elif kind == "a":
                attr_name, colon, attr_value = value.partition(":")
                section.attributes.append((attr_name, attr_value if colon else None))
            elif kind == "c":
                section.connection = Connection.parse(value)
            elif kind == "b":
                section.bandwidths.append(value)
            elif section is not session:
                if kind in "vost":
                    raise _bad(f"{kind}= line inside a media section")
                section.other.append((kind, value))
            elif kind == "o" and origin is None:
                origin = Origin.parse(value)
            elif kind == "s" and name is None:
                name = value
            elif kind == "t":
                session.times.append(value)
            elif kind in "vos":
                raise _bad(f"repeated {kind}= line")
            else:
                session.other.append((kind, value))
        if origin is None or name is None:
            raise _bad("o= and s= lines are required")
        session.origin, session.name = origin, name
        return session

    def __bytes__(self) -> bytes:
        out = ["v=0", f"o={self.origin}", f"s={self.name}"]
        out += [f"{k}={v}" for k, v in self.other if k in _SESSION_OTHER_EARLY]
        if self.connection is not None:
            out.append(f"c={self.connection}")
        out += [f"b={b}" for b in self.bandwidths]
        out += [f"t={t}" for t in self.times]
        out += [f"{k}={v}" for k, v in self.other if k not in _SESSION_OTHER_EARLY]
        out += [_attribute_line(n, v) for n, v in self.attributes]
        for media in self.media:
            out += media.lines()
        return ("\r\n".join(out) + "\r\n").encode("utf-8", "surrogateescape")

    def direction_of(self, media: MediaDescription) -> str:
        """The media's direction, else the session's, else sendrecv (RFC 4566 §6)."""
        return media.direction or self.direction or "sendrecv"

    def connection_of(self, media: MediaDescription) -> Connection | None:
        """The media's c= line, else the session's."""
        return media.connection or self.connection

    def rtp_address(self, media: MediaDescription) -> tuple[str, int]:
        connection = self.connection_of(media)
        if connection is None:
            raise _bad(f"no c= line for the {media.media} stream")
        return connection.host, media.port

    def rtcp_address(self, media: MediaDescription) -> tuple[str, int]:
        """From a=rtcp (RFC 3605), else the RTP port + 1 (RFC 3550 §11)."""
        host, port = self.rtp_address(media)
        rtcp = media.rtcp
        if rtcp is None:
            return host, port + 1
        return rtcp[1] or host, rtcp[0]


def next_version(
    previous: SessionDescription | None, sdp: SessionDescription
) -> SessionDescription:
    """Version `sdp` as the next SDP we send in a dialog after `previous` (RFC 3264 §8).

    The o= line stays the one of `previous` (the first SDP we sent), with the
    version one higher if anything else changed and the same if it did not.
    Returns a copy of `sdp` with that origin; `previous` None keeps `sdp` as is.
    """
    if previous is None:
        return sdp
    origin = dataclasses.replace(previous.origin)
    versioned = dataclasses.replace(sdp, origin=origin)
    if bytes(versioned) != bytes(previous):
        origin.sess_version += 1
    return versioned


def _session(address: str, session_id: int, username: str) -> SessionDescription:
    sid = str(session_id)
    origin = Origin(username, sid, session_id, "IN", _addrtype(address), address)
    return SessionDescription(origin, connection=Connection.for_address(address))


def _audio_media(
    port: int,
    codecs: list[Codec],
    dtmf_pt: int | None,
    events: str,
    direction: str,
    cryptos: list[Crypto] | None = None,
    proto: str | None = None,
) -> MediaDescription:
    if proto is None:
        proto = AUDIO_PROTO if cryptos is None else SAVP_PROTO
    media = MediaDescription("audio", port, proto, [str(c.pt) for c in codecs])
    media.attributes = [("rtpmap", f"{c.pt} {_encoding(c)}") for c in codecs]
    if dtmf_pt is not None:
        media.formats.append(str(dtmf_pt))
        media.attributes.append(("rtpmap", f"{dtmf_pt} {TELEPHONE_EVENT}/{codecs[0].clock}"))
        media.attributes.append(("fmtp", f"{dtmf_pt} {events}"))
    media.attributes += [("ptime", str(PTIME)), (direction, None)]
    if cryptos is not None:
        media.attributes += [("crypto", str(crypto)) for crypto in cryptos]
    return media


def _encoding(codec: Codec) -> str:
    """A codec as an a=rtpmap writes it: Opus is always "opus/48000/2" (RFC 7587 §7)."""
    if codec.name == OPUS:
        return "opus/48000/2"
    return f"{codec.name}/{codec.clock}"


def _opus(media: MediaDescription) -> Codec | None:
    """A browser's Opus payload type, for a browser that offers no G.711 (U1)."""
    for fmt in media.formats:
        rtpmap = media.rtpmap(fmt)
        if fmt.isdigit() and rtpmap and (rtpmap.encoding.lower(), rtpmap.clock) == ("opus", 48000):
            return Codec(OPUS, int(fmt), 48000)
    return None


def _codec(name: str) -> Codec:
    try:
        return CODECS[name.upper()]
    except KeyError:
        raise ValueError(f"unsupported codec {name!r}") from None


def build_offer(
    *,
    address: str,
    port: int,
    session_id: int,
    codecs: tuple[str, ...] = ("PCMA", "PCMU"),
    dtmf_pt: int | None = 101,
    direction: str = "sendrecv",
    username: str = "vaxel",
    srtp_key: bytes | None = None,
    webrtc: IceDtls | None = None,
) -> SessionDescription:
    """One audio stream offering `codecs` in preference order plus telephone-event.

    With `srtp_key` the stream is `RTP/SAVP`, offering each of `SRTP_SUITES` with
    that key (one line each, tags 1, 2 ...): the answer picks one. With `webrtc` (to a
    browser) it is `UDP/TLS/RTP/SAVPF` with our ICE-lite and DTLS lines instead: G.711
    still, which every browser has, so nothing is transcoded.
    """
    if direction not in _FLAGS:
        raise ValueError(f"not an SDP direction: {direction!r}")
    sd = _session(address, session_id, username)
    events = _format_events(DTMF_EVENTS)
    cryptos = None
    if srtp_key is not None:
        cryptos = [Crypto(i, suite, srtp_key) for i, suite in enumerate(SRTP_SUITES, 1)]
    proto = None if webrtc is None else DTLS_PROTO
    if webrtc is not None:
        cryptos = None
    media = _audio_media(
        port, [_codec(c) for c in codecs], dtmf_pt, events, direction, cryptos, proto
    )
    if webrtc is not None:
        sd.attributes.append(("ice-lite", None))
        _webrtc_attributes(media, webrtc, address, port, "0")
    sd.media.append(media)
    return sd


@dataclass(slots=True)
class Answer:
    """The outcome of an offer/answer exchange for the audio stream.

    `direction` is ours; `hold` says the peer does not want media from us
    (sendonly, inactive or c=0.0.0.0). `codec` and `remote` are None only
    when every stream of the offer was disabled (port 0). `srtp` holds the
    keys when the stream is SRTP keyed by SDES, None when it is plain RTP; `webrtc` the
    ICE and DTLS parameters of a browser's stream (its keys come from DTLS).
    """

    sdp: SessionDescription
    codec: Codec | None
    dtmf_pt: int | None
    remote: tuple[str, int] | None
    remote_rtcp: tuple[str, int] | None
    direction: str
    hold: bool = False
    srtp: SrtpKeys | None = None
    webrtc: WebRtcSession | None = None

    def __init__(
        self,
        sdp: SessionDescription,
        codec: Codec | None,
        dtmf_pt: int | None,
        remote: tuple[str, int] | None,
        remote_rtcp: tuple[str, int] | None,
        direction: str,
        hold: bool = False,
        srtp: SrtpKeys | None = None,
        webrtc: WebRtcSession | None = None,
    ) -> None:
        self.sdp = sdp
        self.codec = codec
        self.dtmf_pt = dtmf_pt
        self.remote = remote
        self.remote_rtcp = remote_rtcp
        self.direction = direction
        self.hold = hold
        self.srtp = srtp
        self.webrtc = webrtc


def _peer_flags(sd: SessionDescription, media: MediaDescription) -> tuple[bool, bool]:
    """(sends, receives) of the SDP's author; c=0.0.0.0 means it receives nothing."""
    sends, receives = _FLAGS[sd.direction_of(media)]
    connection = sd.connection_of(media)
    if connection is not None and connection.host == HOLD_ADDRESS:
        receives = False
    return sends, receives


def _our_direction(peer: tuple[bool, bool], wanted: str | None) -> str:
    """Mirror the peer's direction (RFC 3264 §6.1), narrowed by what we want."""
    peer_sends, peer_receives = peer
    we_send, we_receive = _FLAGS[wanted or "sendrecv"]
    return _BY_FLAGS[(peer_receives and we_send, peer_sends and we_receive)]


def _parse_events(fmtp: str | None) -> set[int]:
    """The events of a telephone-event fmtp; none given means 0-15 (RFC 4733 §2.4.1)."""
    if fmtp is None:
        return set(range(16))
    events: set[int] = set()
    for item in fmtp.replace(" ", "").split(","):
        low, _, high = item.partition("-")
        if low.isdigit() and (not high or high.isdigit()):
            events.update(range(int(low), int(high or low) + 1))
    return events


def _answer_events(offered: str | None) -> str:
    """The events we accept of those offered, as an fmtp value."""
    return _format_events(set(DTMF_EVENTS) & _parse_events(offered))


def _format_events(events: range | set[int]) -> str:
    """Event numbers as RFC 4733 ranges: {0, ..., 11, 16} -> "0-11,16"."""
    if not events:
        return ""
    ranges: list[str] = []
    ordered = sorted(events)
    start = prev = ordered[0]
    for event in [*ordered[1:], None]:
        if event is not None and event == prev + 1:
            prev = event
            continue
        ranges.append(str(start) if start == prev else f"{start}-{prev}")
        if event is not None:
            start = prev = event
    return ",".join(ranges)


def _pick_codec(media: MediaDescription, preferred: tuple[str, ...]) -> Codec | None:
    """Our most preferred codec the peer lists, with the peer's payload type."""
    offered: dict[str, int] = {}
    for fmt in media.formats:
        rtpmap = media.rtpmap(fmt)
        if fmt.isdigit() and rtpmap and rtpmap.channels == 1:
            offered.setdefault(f"{rtpmap.encoding.upper()}/{rtpmap.clock}", int(fmt))
    for name in preferred:
        codec = _codec(name)
        pt = offered.get(f"{codec.name}/{codec.clock}")
        if pt is not None:
            return Codec(codec.name, pt, codec.clock)
    return None


def _pick_dtmf(media: MediaDescription, clock: int) -> int | None:
    for fmt in media.formats:
        rtpmap = media.rtpmap(fmt)
        if (
            fmt.isdigit()
            and rtpmap
            and (rtpmap.encoding.lower(), rtpmap.clock) == (TELEPHONE_EVENT, clock)
            and _parse_events(media.fmtp(fmt)) & set(DTMF_EVENTS)
        ):
            return int(fmt)
    return None


def _is_audio(media: MediaDescription) -> bool:
    return (
        media.media == "audio"
        and (media.proto in (AUDIO_PROTO, SAVP_PROTO) or media.proto in _DTLS_PROTOS)
        and media.port != 0
    )


#: What a leg may do about SRTP (O2): refuse it, take it when offered, or insist on it.
SRTP_POLICIES = ("off", "optional", "required")


def _our_crypto(media: MediaDescription, srtp: str, srtp_key: bytes | None) -> Crypto | None:
    """For an SAVP stream of an offer: the first crypto line we can meet, answered with our
    key (the offer's tag and suite; an MKI of the offer's length, RFC 4568 §6.1), else None."""
    if srtp == "off" or srtp_key is None:
        return None
    for theirs in crypto_lines(media):
        mki_length = theirs.mki_length
        return Crypto(theirs.tag, theirs.suite, srtp_key, 1 if mki_length else 0, mki_length)
    return None


def _remote_crypto(media: MediaDescription, ours: Crypto) -> Crypto:
    for theirs in crypto_lines(media):
        if theirs.tag == ours.tag:
            return theirs
    raise AssertionError("our crypto line comes from the offer's")


def negotiate(
    offer: SessionDescription,
    *,
    address: str,
    port: int,
    session_id: int,
    preferred: tuple[str, ...] = ("PCMA", "PCMU"),
    direction_override: str | None = None,
    srtp: str = "optional",
    srtp_key: bytes | None = None,
    webrtc: IceDtls | None = None,
) -> Answer:
    """Answer `offer` (RFC 3264 §6): the first usable audio stream with one codec.

    Our preference order wins among the codecs both sides support. Other
    streams are rejected with port 0, keeping the m-line count and order.
    `direction_override` is the most we want (sendonly to hold the peer).
    `srtp` (one of `SRTP_POLICIES`) says which streams are usable: "off" only
    RTP/AVP ones, "required" only RTP/SAVP ones with a crypto line we meet,
    "optional" either; an SRTP stream is answered with `srtp_key`. A browser's stream
    (DTLS-SRTP) is usable with `webrtc`, our ICE credentials and fingerprint, whatever the
    policy (it is never plain): answered as the DTLS server unless the browser wants to be.
    Raises RemoteProtocolError 488 when no offered stream is acceptable.
    """
    if direction_override is not None and direction_override not in _FLAGS:
        raise ValueError(f"not an SDP direction: {direction_override!r}")
    if srtp not in SRTP_POLICIES:
        raise ValueError(f"not an SRTP policy: {srtp!r}")
    sd = _session(address, session_id, "vaxel")
    result = Answer(sd, None, None, None, None, "inactive")
    for media in offer.media:
        codec = _pick_codec(media, preferred) if _is_audio(media) else None
        crypto: Crypto | None = None
        remote_ice: IceDtls | None = None
        if codec is not None and media.proto == SAVP_PROTO:
            crypto = _our_crypto(media, srtp, srtp_key)
            if crypto is None:
                codec = None  # SRTP we cannot (or may not) meet
        elif media.proto in _DTLS_PROTOS and _is_audio(media):
            remote_ice = _ice_dtls(offer, media) if webrtc is not None else None
            if remote_ice is None:
                codec = None  # not a browser we can meet (or not WebRTC on this leg)
            elif codec is None:
                codec = _opus(media)  # a browser that insists on Opus
        elif srtp == "required":
            codec = None  # plain RTP where the policy wants SRTP
        if codec is None or result.codec is not None:
            sd.media.append(MediaDescription(media.media, 0, media.proto, list(media.formats)))
            continue
        peer = _peer_flags(offer, media)
        dtmf_pt = _pick_dtmf(media, codec.clock)
        events = "" if dtmf_pt is None else _answer_events(media.fmtp(str(dtmf_pt)))
        direction = _our_direction(peer, direction_override)
        cryptos = None if crypto is None else [crypto]
        proto = media.proto if remote_ice is not None else None
        answered = _audio_media(port, [codec], dtmf_pt, events, direction, cryptos, proto)
        if webrtc is not None and remote_ice is not None:
            ours = webrtc.with_setup("active" if remote_ice.setup == "passive" else "passive")
            mid = media.attribute("mid")
            _webrtc_attributes(answered, ours, address, port, mid)
            bundle = _bundle(offer, mid)
            sd.attributes.append(("ice-lite", None))
            if bundle is not None:
                sd.attributes.insert(0, ("group", bundle))
            result.webrtc = WebRtcSession(ours, remote_ice)
        sd.media.append(answered)
        result.codec, result.dtmf_pt, result.direction = codec, dtmf_pt, direction
        result.remote, result.remote_rtcp = offer.rtp_address(media), offer.rtcp_address(media)
        result.hold = not peer[1]
        if crypto is not None:
            result.srtp = SrtpKeys(crypto, _remote_crypto(media, crypto))
    if result.codec is None and any(m.port != 0 for m in offer.media):
        if srtp == "required":
            raise RemoteProtocolError("SDP: encrypted media (RTP/SAVP) required", 488)
        raise RemoteProtocolError("SDP: no acceptable audio stream in the offer", 488)
    return result


def parse_answer(offer: SessionDescription, answer: SessionDescription) -> Answer:
    """Read the peer's answer to our `offer`: codec, DTMF, where to send, our direction.

    The codec is the first format of the answer that we offered and support.
    Raises RemoteProtocolError 400 for an answer that does not match the
    offer, and 488 when it rejects every audio stream we offered.
    """
    if len(answer.media) != len(offer.media):
        raise _bad("the answer does not have the offer's m-lines")
    result = Answer(answer, None, None, None, None, "inactive")
    for ours, theirs in zip(offer.media, answer.media, strict=True):
        if result.codec is not None or not (_is_audio(ours) and _is_audio(theirs)):
            continue
        common = [f for f in theirs.formats if f in ours.formats]
        codec = next(
            (c for f in common if (c := _pick_codec(_only(theirs, f), tuple(CODECS)))), None
        )
        if codec is None:
            raise RemoteProtocolError("SDP: the answer has no codec we offered", 488)
        if theirs.proto != ours.proto:
            raise RemoteProtocolError("SDP: the answer changed the stream's RTP profile", 488)
        if ours.proto == SAVP_PROTO:
            result.srtp = _answered_keys(ours, theirs)
        if ours.proto in _DTLS_PROTOS:
            result.webrtc = _answered_webrtc(offer, ours, answer, theirs)
        peer = _peer_flags(answer, theirs)
        result.codec, result.direction = codec, _our_direction(peer, offer.direction_of(ours))
        result.dtmf_pt = _pick_dtmf(_only(theirs, *common), codec.clock)
        result.remote, result.remote_rtcp = answer.rtp_address(theirs), answer.rtcp_address(theirs)
        result.hold = not peer[1]
    if result.codec is None and any(_is_audio(m) for m in offer.media):
        raise RemoteProtocolError("SDP: the answer rejected our audio stream", 488)
    return result


def _answered_webrtc(
    offer: SessionDescription,
    ours: MediaDescription,
    answer: SessionDescription,
    theirs: MediaDescription,
) -> WebRtcSession:
    """The browser's ICE and DTLS parameters in its answer to our WebRTC offer."""
    local = _ice_dtls(offer, ours)
    remote = _ice_dtls(answer, theirs)
    if local is None:
        raise AssertionError("our WebRTC offer has its ICE and DTLS lines")
    if remote is None or remote.setup == "actpass":
        raise RemoteProtocolError("SDP: the answer lacks ICE, DTLS or rtcp-mux lines", 488)
    return WebRtcSession(local, remote)


def _answered_keys(ours: MediaDescription, theirs: MediaDescription) -> SrtpKeys:
    """The keys of an SAVP answer: its one crypto line names one of ours by tag and suite."""
    answered = crypto_lines(theirs)
    offered = {c.tag: c for c in crypto_lines(ours)}
    if len(answered) != 1 or len(theirs.values("crypto")) != 1:
        raise RemoteProtocolError("SDP: the answer must have one crypto line we can meet", 488)
    remote = answered[0]
    local = offered.get(remote.tag)
    if local is None or local.suite != remote.suite:
        raise RemoteProtocolError("SDP: the answer's crypto line is not one we offered", 488)
    return SrtpKeys(local, remote)


def _only(media: MediaDescription, *formats: str) -> MediaDescription:
    """`media` narrowed to `formats`, to look codecs up among them only."""
    return dataclasses.replace(media, formats=list(formats))
