"""SRTP and SRTCP contexts of one media endpoint (P5, O2; RFC 3711), over libsrtp.

`pylibsrtp` (a binding of libsrtp) does the ciphers, authentication and
replay checks. One `SrtpContext` protects or unprotects one direction of a
leg's streams, RTP and RTCP, with the key and suite the SDES exchange gave
(`vaxel.sip.sdp.SrtpKeys`). A packet that fails (a bad tag, a replay, a
wrong key) yields None: the endpoint drops and counts it.

An MKI (RFC 3711 §3.1) sits between the authenticated part and the tag;
libsrtp as bound here keys by policy, not by MKI, so a single-key stream's
MKI is inserted after protecting and taken out before unprotecting (it is
not authenticated, so the tag is the same either way).
"""

from __future__ import annotations

from pylibsrtp import Error, Policy, Session

from vaxel.sip.sdp import Crypto

# suite -> (libsrtp profile, SRTP tag octets); SRTCP's tag is 80 bits for both
# (RFC 4568 §6.2.1-2).
_PROFILES = {
    "AES_CM_128_HMAC_SHA1_80": (Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 10),
    "AES_CM_128_HMAC_SHA1_32": (Policy.SRTP_PROFILE_AES128_CM_SHA1_32, 4),
}
_RTCP_TAG = 10
_MIN_WINDOW = 64  # libsrtp's least replay window (RFC 3711 §3.3.2)


class SrtpContext:
    """One direction of a leg's SRTP: `outbound` protects what we send, else unprotects
    what the party sends."""

    __slots__ = ("_mki", "_mki_length", "_rtcp_tag", "_session", "_tag", "crypto")

    def __init__(self, crypto: Crypto, *, outbound: bool) -> None:
        profile, tag = _PROFILES[crypto.suite]
        ssrc = Policy.SSRC_ANY_OUTBOUND if outbound else Policy.SSRC_ANY_INBOUND
        policy = Policy(key=crypto.key, ssrc_type=ssrc, srtp_profile=profile)
        if crypto.window:
            policy.window_size = max(_MIN_WINDOW, min(crypto.window, 0x7FFF))
        self._session = Session(policy)
        self.crypto = crypto  # to tell whether new SDP changed the key (repr shows none)
        self._tag = tag
        self._rtcp_tag = _RTCP_TAG
        self._mki = crypto.mki_bytes()
        self._mki_length = crypto.mki_length

    def __repr__(self) -> str:
        return f"SrtpContext({self.crypto!r})"

    def protect(self, packet: bytes | bytearray) -> bytes | None:
        try:
            out: bytes = self._session.protect(bytes(packet))
        except (Error, ValueError):  # ValueError: longer than libsrtp's buffer
            return None
        return out if not self._mki else _insert(out, self._mki, self._tag)

    def protect_rtcp(self, packet: bytes) -> bytes | None:
        try:
            out: bytes = self._session.protect_rtcp(packet)
        except (Error, ValueError):
            return None
        return out if not self._mki else _insert(out, self._mki, self._rtcp_tag)

    def unprotect(self, packet: bytes) -> bytes | None:
        if self._mki_length:
            packet = _strip(packet, self._mki_length, self._tag)
        try:
            out: bytes = self._session.unprotect(packet)
        except (Error, ValueError):
            return None
        return out

    def unprotect_rtcp(self, packet: bytes) -> bytes | None:
        if self._mki_length:
            packet = _strip(packet, self._mki_length, self._rtcp_tag)
        try:
            out: bytes = self._session.unprotect_rtcp(packet)
        except (Error, ValueError):
            return None
        return out


def _insert(packet: bytes, mki: bytes, tag: int) -> bytes:
    return packet[:-tag] + mki + packet[-tag:]


def _strip(packet: bytes, mki_length: int, tag: int) -> bytes:
    if len(packet) < 12 + mki_length + tag:
        return b""  # too short: libsrtp refuses it
    return packet[: -(mki_length + tag)] + packet[-tag:]
