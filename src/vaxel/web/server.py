"""The web served by uvicorn on a socket bound for it (P8): in the web's own process
(web/process.py), or in a test's.

Binding the socket outside uvicorn (web/launcher.py `listen`) lets `--http
127.0.0.1:0` take a free port and say which; the process keeps its own signal
handling (uvicorn's is turned off) and stops the web when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Generator
from pathlib import Path

import uvicorn
from anyio import to_thread
from fastapi import FastAPI

from vaxel.transport.certificates import CertificateFiles
from vaxel.web.app import create_app
from vaxel.web.context import WebContext
from vaxel.web.launcher import address_of

log = logging.getLogger("vaxel.web")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the switch handles SIGINT and SIGTERM, and stops us


class WebServer:
    """The HTTP server on a listening socket (`listen`): `start()` serves, `stop()` ends it."""

    def __init__(
        self,
        ctx: WebContext,
        sock: socket.socket,
        *,
        certificate: tuple[Path, Path] | None = None,
        app: FastAPI | None = None,
    ) -> None:
        """`certificate` (file, key) serves HTTPS; `app` serves an app already made (the
        same one over HTTP and HTTPS)."""
        self.ctx = ctx
        self.socket = sock
        self.app = app if app is not None else create_app(ctx)
        tls = (
            {"ssl_certfile": str(certificate[0]), "ssl_keyfile": str(certificate[1])}
            if certificate is not None
            else {}
        )
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,
            proxy_headers=False,  # the source address is the peer's, never a header's
            timeout_graceful_shutdown=5,
            ws="websockets-sansio",  # the live events (web/events.py); awaits a slow reader
            ws_max_size=64 * 1024,  # what a client sends is a token at most
            # Keep-alives (P2, RFC 5626 §4.4): a WebSocket (SIP at /ws, live events) is
            # pinged every 20 s, and closed when its pong is 20 s late, so a browser gone
            # behind a NAT fails its SIP flow instead of being rung in vain.
            ws_ping_interval=20.0,
            ws_ping_timeout=20.0,
            **tls,  # type: ignore[arg-type]
        )
        self.server = _Server(config)
        self.task: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        return address_of(self.socket)

    def start(self) -> None:
        # VAXEL_WEB_THREADS=N: the worker threads of plain `def` endpoints (anyio's
        # default limiter: 40), for bench/api_load.py; fewer runnable threads means fewer
        # contenders for the GIL the loop needs to relay RTP. Unset: anyio's default.
        threads = os.environ.get("VAXEL_WEB_THREADS")
        if threads:
            to_thread.current_default_thread_limiter().total_tokens = int(threads)
        self.task = asyncio.get_running_loop().create_task(self.server.serve([self.socket]))

    def reload_certificate(self, files: CertificateFiles, why: str) -> None:
        """HTTPS with the certificate files as they are now (P2, O2): new connections get
        it, open ones keep theirs; files that do not load are refused and the certificate
        in use stays. uvicorn's context is the one every handshake uses, so loading the
        new chain into it is the whole reload."""
        context = self.server.config.ssl
        if context is None:
            return
        try:
            _, fingerprint = files.load()  # checks them (and notes them as tried)
            context.load_cert_chain(files.certificate, files.key)
        except (OSError, ValueError) as exc:
            log.error("HTTPS certificate not reloaded (%s), the old one kept: %s", why, exc)
            return
        log.warning("HTTPS certificate reloaded (%s): SHA-256 %s", why, fingerprint)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.socket.close()
