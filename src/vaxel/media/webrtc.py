"""A browser's media on one endpoint (U1, O2): ICE-lite checks and DTLS-SRTP on its RTP port.

A WebRTC leg's RTP port carries four kinds of datagram (RFC 7983 §7, by first octet):
STUN (0-3) for ICE, DTLS (20-63) for the keys, and SRTP and SRTCP (128-191) on one
port (rtcp-mux, RFC 5761). The endpoint's per-packet path keeps SRTP and SRTCP; the
rest comes here (`receive`).

The order things happen in:
1. The browser checks our host candidate (`IceLite`): every valid check is answered;
   the address of the check that nominates (USE-CANDIDATE) is where media will go.
2. The browser, the DTLS client as a rule, sends its ClientHello there; the handshake
   (`DtlsHandshake`) runs only with addresses that passed a check.
3. When the handshake is done and the browser's certificate has the fingerprint of its
   SDP (which may arrive after the handshake, when the switch made the offer), the
   endpoint gets its two SRTP contexts and the nominated address (`Endpoint.secure`).
   Until then nothing is sent to the browser and nothing from it is relayed.
A later nomination from another address moves the media there; new SDP with the same
fingerprint and role keeps the association (a re-INVITE for hold does not re-key).

The handshake's retransmissions run on the loop's timer while it lasts. A failed
handshake, or a certificate that is not the SDP's, leaves the leg silent: the call
still ends the usual way (BYE, or the RTP timeout), and the failure is logged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from vaxel.media.dtls import DtlsError, DtlsHandshake, certificate
from vaxel.media.ice_lite import IceLite
from vaxel.sip.sdp import IceDtls, WebRtcSession

if TYPE_CHECKING:
    from vaxel.media.endpoint import Endpoint

log = logging.getLogger(__name__)

_CLIENT_HELLO = 1  # DTLS handshake message type (RFC 6347 §4.3.2)
_MAX_CHECKED = 8  # addresses that passed a check, kept to let DTLS in from them


class WebRtcMedia:
    """ICE-lite and DTLS-SRTP of one endpoint; `local` is what our SDP says."""

    __slots__ = ("_checked", "_timer", "dtls", "endpoint", "failed", "ice", "local", "selected")

    def __init__(self, endpoint: Endpoint, local: IceDtls) -> None:
        self.endpoint = endpoint
        self.local = local
        self.ice = IceLite(local.ufrag, local.pwd)
        self.dtls: DtlsHandshake | None = None
        self.selected: tuple[str, int] | None = None  # the nominated address
        self._checked: list[tuple[str, int]] = []
        self._timer: asyncio.TimerHandle | None = None
        self.failed = False

    def negotiated(self, session: WebRtcSession) -> None:
        """The offer/answer is done: the browser's fingerprint, and who is the DTLS
        client. A new fingerprint or role starts a new association."""
        dtls = self.dtls
        fingerprint = session.remote.fingerprint
        if dtls is not None and (
            dtls.server != session.dtls_server
            or (dtls.expected is not None and dtls.expected != fingerprint)
        ):
            dtls = None
            self.endpoint.unsecure()
        if dtls is None:
            dtls = self.dtls = DtlsHandshake(certificate(), server=session.dtls_server)
            self.failed = False
        self._guard(dtls.check, fingerprint)
        if not dtls.server and self.selected is not None:
            self._send(self._guard(dtls.start), self.selected)
        self._keyed()

    def receive(self, data: bytes, source: tuple[str, int]) -> None:
        """A datagram that is not SRTP: a connectivity check, or DTLS."""
        first = data[0]
        if first < 4:
            check = self.ice.check(data, source)
            if check is None:
                return
            self._send([check.response], source)
            address = (source[0], source[1])
            if address not in self._checked:
                self._checked = [*self._checked[-(_MAX_CHECKED - 1) :], address]
            if check.nominated and address != self.selected:
                self._nominate(address)
        elif 20 <= first <= 63:
            address = (source[0], source[1])
            if address not in self._checked:
                return  # DTLS only from an address that passed a check
            dtls = self.dtls
            if dtls is None:
                if len(data) < 14 or data[0] != 22 or data[13] != _CLIENT_HELLO:
                    return
                # Our offer said actpass and the browser's answer is not here yet: it
                # chose to be the client, as browsers do.
                dtls = self.dtls = DtlsHandshake(certificate(), server=True)
            self._send(self._guard(dtls.receive, data), address)
            self._keyed()

    def _nominate(self, address: tuple[str, int]) -> None:
        self.selected = address
        dtls = self.dtls
        if dtls is not None and not dtls.server and not dtls.done:
            self._send(self._guard(dtls.start), address)
        if dtls is not None and dtls.keys is not None:
            self.endpoint.secure(dtls.keys, address)  # moved: media follows

    def _keyed(self) -> None:
        dtls = self.dtls
        if dtls is None or dtls.keys is None or self.selected is None:
            return
        self._cancel()
        self.endpoint.secure(dtls.keys, self.selected)

    def _guard(self, step, *args):  # type: ignore[no-untyped-def]
        """Run a DTLS step; a failure leaves the leg without keys, logged once."""
        try:
            return step(*args) or []
        except DtlsError as error:
            if not self.failed:
                self.failed = True
                log.warning("WebRTC media on port %d: %s", self.endpoint.port, error)
            return []

    def _send(self, datagrams: list[bytes], address: tuple[str, int]) -> None:
        for datagram in datagrams:
            with contextlib.suppress(OSError):
                self.endpoint.rtp.sendto(datagram, address)
        self._schedule()

    def _schedule(self) -> None:
        """Keep the handshake's retransmission timer while it runs."""
        self._cancel()
        dtls = self.dtls
        delay = None if dtls is None else dtls.timeout()
        if delay is not None:
            self._timer = self.endpoint.engine.loop.call_later(max(delay, 0.01), self._retransmit)

    def _retransmit(self) -> None:
        self._timer = None
        dtls = self.dtls
        target = self.selected or (self._checked[-1] if self._checked else None)
        if dtls is None or target is None:
            return
        self._send(self._guard(dtls.retransmit), target)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def close(self) -> None:
        self._cancel()
        self.dtls = None
