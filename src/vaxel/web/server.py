"""The web served in the switch's own asyncio loop (P8): uvicorn on a socket we bind.

Binding the socket ourselves lets `--http 127.0.0.1:0` take a free port and say which;
the switch keeps its own signal handling (uvicorn's is turned off) and stops the web
when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Generator

import uvicorn
from anyio import to_thread

from vaxel.web.app import create_app
from vaxel.web.context import WebContext

log = logging.getLogger("vaxel.web")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the switch handles SIGINT and SIGTERM, and stops us


class WebServer:
    """The HTTP listener: `start()` binds and serves, `stop()` ends it."""

    def __init__(self, ctx: WebContext, host: str, port: int) -> None:
        self.ctx = ctx
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # proto named: asyncio sets TCP_NODELAY on accepted sockets only when it is (with
        # proto 0, every response written in two parts waited 40 ms for a delayed ACK).
        self.socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.socket.listen(512)
        self.socket.setblocking(False)
        config = uvicorn.Config(
            create_app(ctx),
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,
            proxy_headers=False,  # the source address is the peer's, never a header's
            timeout_graceful_shutdown=5,
            ws="websockets-sansio",  # the live events (web/events.py); awaits a slow reader
            ws_max_size=64 * 1024,  # what a client sends is a token at most
        )
        self.server = _Server(config)
        self.task: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        host, port = self.socket.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> None:
        # VAXEL_WEB_THREADS=N: the worker threads of plain `def` endpoints (anyio's
        # default limiter: 40), for bench/api_load.py; fewer runnable threads means fewer
        # contenders for the GIL the loop needs to relay RTP. Unset: anyio's default.
        threads = os.environ.get("VAXEL_WEB_THREADS")
        if threads:
            to_thread.current_default_thread_limiter().total_tokens = int(threads)
        self.task = asyncio.get_running_loop().create_task(self.server.serve([self.socket]))

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.socket.close()
