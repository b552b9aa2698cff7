"""A SIP client over WebSocket (RFC 7118) for tests: `/ws` of a running `vaxel serve`.

`WebSocketSip` has `SipSocket`'s interface (send, recv, close, port), so the suite's
scriptable phones (`Phone`, `AudioPhone`) speak SIP over a real WebSocket through the
web process, as a browser softphone does: one SIP message per text message, a Contact
at an `.invalid` host with `;transport=ws` (a browser has no address to be reached at).
"""

from __future__ import annotations

import secrets
from typing import TypeVar

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.integration.peers import Server
from tests.integration.phone import Phone


def ws_url(server: Server) -> str:
    return server.web.replace("http://", "ws://", 1) + "/ws"


class WebSocketSip:
    """SIP messages over one WebSocket to the switch's web."""

    transport = "ws"

    def __init__(self, server: Server, url: str | None = None, **options: object) -> None:
        options.setdefault("subprotocols", ["sip"])
        self.connection: ClientConnection = connect(
            url or ws_url(server),
            open_timeout=30,  # the web process may still be starting on a busy machine
            legacy=True,
            **options,  # type: ignore[arg-type]
        )
        self.port = self.connection.local_address[1]

    def send(self, data: bytes) -> None:
        self.connection.send(data.decode("utf-8"))  # a text message, as JsSIP sends

    def recv(self, timeout: float = 3.0) -> bytes | None:
        try:
            message = self.connection.recv(timeout=timeout)
        except (TimeoutError, ConnectionClosed):
            return None
        return message.encode("utf-8") if isinstance(message, str) else message

    def close(self) -> None:
        self.connection.close()


P = TypeVar("P", bound=Phone)


def over_websocket(phone: P, server: Server) -> P:
    """`phone`, moved from its UDP socket onto a WebSocket to `server`'s /ws."""
    phone.sock.close()
    phone.sock = WebSocketSip(server)  # type: ignore[assignment]
    phone.port = phone.sock.port
    phone.transport = "WS"
    phone.contact = f"<sip:{phone.user}@{secrets.token_hex(5)}.invalid;transport=ws>"
    return phone
