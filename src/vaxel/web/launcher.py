"""The switch's side of its web process (P8, O1): start it, link it, restart it.

`vaxel serve --http` binds the HTTP socket here, in the switch (connections
wait in its backlog while the web process starts or restarts), and runs
`python -m vaxel.web.process` with that socket and one end of the link
(web/link.py). A web process that dies is started again after a pause; the
calls never notice. When the switch stops it stops the web: SIGTERM, then
SIGKILL after a grace period.

Nothing here imports the web application: the switch's process stays free of
it (web/process.py runs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from pathlib import Path

from vaxel.web.link import SwitchEnd

log = logging.getLogger("vaxel.web")

RESTART_PAUSE = 1.0  # seconds before a web process that died is started again
GRACE = 8.0  # seconds a stopping web process has to finish its requests


def listen(host: str, port: int) -> socket.socket:
    """The web's listening socket on `host:port` (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto named: asyncio sets TCP_NODELAY on accepted sockets only when it is (with
    # proto 0, every response written in two parts waited 40 ms for a delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


def address_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class WebProcess:
    """Keeps one web process running on `sock` while the switch runs."""

    def __init__(
        self,
        data: Path,
        sock: socket.socket,
        end: SwitchEnd,
        *,
        https: socket.socket | None = None,
        certificate: tuple[Path, Path] | None = None,
    ) -> None:
        self.data = data
        self.socket = sock
        self.https = https  # the same web over HTTPS (with `certificate`: file, key)
        self.certificate = certificate
        self.end = end
        self.process: asyncio.subprocess.Process | None = None
        self.task: asyncio.Task[None] | None = None
        self.stopping = False
        self.starts = 0

    @property
    def address(self) -> str:
        return address_of(self.socket)

    @property
    def secure_address(self) -> str:
        assert self.https is not None
        return address_of(self.https).replace("http://", "https://", 1)

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._keep_running())

    async def _keep_running(self) -> None:
        while not self.stopping:
            try:
                code = await self._run_once()
            except OSError:
                log.exception("could not start the web process")
                code = None
            if self.stopping:
                break
            log.warning("the web process ended (%s); starting it again", code)
            await asyncio.sleep(RESTART_PAUSE)

    async def _run_once(self) -> int:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            secure: list[str] = []
            fds = [self.socket.fileno(), theirs.fileno()]
            if self.https is not None and self.certificate is not None:
                certificate, key = self.certificate
                secure = ["--https-fd", str(self.https.fileno()), "--cert", str(certificate),
                          "--key", str(key)]  # fmt: skip
                fds.append(self.https.fileno())
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "vaxel.web.process",
                "--data", str(self.data),
                "--listen-fd", str(self.socket.fileno()),
                "--link-fd", str(theirs.fileno()),
                *secure,
                pass_fds=tuple(fds),
                stdin=asyncio.subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        finally:
            theirs.close()
        self.starts += 1
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        linked = asyncio.create_task(self.end.serve(reader, writer))
        try:
            return await self.process.wait()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await linked

    def reload_certificate(self) -> None:
        """Pass the switch's SIGHUP on: the web reloads its HTTPS certificate too."""
        process = self.process
        if self.https is not None and process is not None and process.returncode is None:
            process.send_signal(signal.SIGHUP)

    async def stop(self) -> None:
        self.stopping = True
        process = self.process
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), GRACE)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.socket.close()
        if self.https is not None:
            self.https.close()
