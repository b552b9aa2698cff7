"""What `vaxel serve` was asked to do: the command line fills it, the switch reads it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """The options of `vaxel serve`, validated by the command line."""

    data: Path
    sip_host: str
    sip_port: int
    rtp_low: int
    rtp_high: int
    demo: bool
    http: tuple[str, int] | None = None  # the web and the API; None: not served
    # SIP over TLS (P2, O2): where, and the certificate and key; None: self-signed ones
    # made in <data>/tls/.
    tls: tuple[str, int] | None = None
    tls_certificate: Path | None = None
    tls_key: Path | None = None
    # The web, the API and SIP over secure WebSocket (wss) with the TLS certificate (P2,
    # U1); None: not served.
    https: tuple[str, int] | None = None
