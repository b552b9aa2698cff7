"""The web's own process (P8, O3): started and watched by `vaxel serve`.

The switch binds the HTTP socket (so `--http 127.0.0.1:0` can say which port it
took, and connections wait in its backlog while this process starts) and a
Unix socket pair for the link (web/link.py); this process is handed both as
inherited file descriptors:

    python -m vaxel.web.process --data DIR --listen-fd N --link-fd M

It opens the same data folder (the store is shared: SQLite in WAL mode, or
PostgreSQL) and serves until SIGTERM, or until the switch goes away and
closes the link: it never outlives the switch.

It runs at a lower CPU priority than the switch (`NICE`): when both want a
core, the kernel's scheduler runs the loop that relays the calls' audio first,
and the web's answers wait a little instead.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from pathlib import Path

from vaxel.store import Store
from vaxel.transport.certificates import CertificateFiles
from vaxel.web.context import WebContext
from vaxel.web.link import WebEnd
from vaxel.web.server import WebServer
from vaxel.web.sip_ws import SipRelay

CHECK_INTERVAL = 30.0  # seconds between looks at the HTTPS certificate's files
NICE = 5  # added to the switch's niceness: about a third of its share of a busy core


async def serve(
    data: Path,
    listen_fd: int,
    link_fd: int,
    https_fd: int | None = None,
    certificate: tuple[Path, Path] | None = None,
) -> int:
    store = Store.open(data)
    listening = socket.socket(fileno=listen_fd)
    listening.setblocking(False)
    link = socket.socket(fileno=link_fd)
    reader, writer = await asyncio.open_unix_connection(sock=link)
    end = WebEnd(reader, writer)
    relay = SipRelay(end.send, drain=writer.drain)  # P2, U1: /ws, relayed over the link
    end.sip = relay.from_switch
    context = WebContext(
        store,
        data,
        bus=end.bus,
        changed=end.changed,
        publish=end.publish,
        stats=end.stats,
        place_call=end.place_call,
        conference=end.conference,
        add_party=end.add_party,
        end_wrap_up=end.end_wrap_up,
        queue_live=end.queue_live,
        agents=end.agents,
        transfer=end.transfer,
        call_recording=end.recording,
        console=end.console,
        sip_relay=relay,
    )
    web = WebServer(context, listening)
    web.start()
    servers = [web]
    loop = asyncio.get_running_loop()
    watching: asyncio.Task[None] | None = None
    if https_fd is not None and certificate is not None:  # the same app over HTTPS
        secure = socket.socket(fileno=https_fd)
        secure.setblocking(False)
        https = WebServer(context, secure, certificate=certificate, app=web.app)
        https.start()
        servers.append(https)
        # The switch passes on its SIGHUP; the files are looked at as the switch does.
        files = CertificateFiles(*certificate)
        files.load()
        loop.add_signal_handler(signal.SIGHUP, https.reload_certificate, files, "SIGHUP")
        watching = asyncio.create_task(_watch(https, files))
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    linked = asyncio.create_task(end.serve())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({linked, stopped}, return_when=asyncio.FIRST_COMPLETED)
    for server in servers:
        await server.stop()
    end.close()
    for task in (linked, stopped, watching):
        if task is not None:
            task.cancel()
    store.close()
    return 0


async def _watch(https: WebServer, files: CertificateFiles) -> None:
    """Reload HTTPS's certificate when its files change (VAXEL_TLS_CHECK_INTERVAL seconds,
    as the switch's SIP over TLS)."""
    interval = float(os.environ.get("VAXEL_TLS_CHECK_INTERVAL", CHECK_INTERVAL))
    while True:
        await asyncio.sleep(interval)
        if files.changed():
            https.reload_certificate(files, "the files changed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vaxel.web.process")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--link-fd", type=int, required=True)
    parser.add_argument("--https-fd", type=int)  # the same web over HTTPS
    parser.add_argument("--cert", type=Path)  # its certificate and key
    parser.add_argument("--key", type=Path)
    options = parser.parse_args(argv)
    certificate = (options.cert, options.key) if options.cert and options.key else None
    running = serve(options.data, options.listen_fd, options.link_fd, options.https_fd,
                    certificate)  # fmt: skip
    os.nice(NICE)
    logging.basicConfig(
        level=os.environ.get("VAXEL_LOG", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s (web): %(message)s",
    )
    try:
        import uvloop  # type: ignore[import-not-found]
    except ImportError:
        return asyncio.run(running)
    return int(uvloop.run(running))


if __name__ == "__main__":
    sys.exit(main())
