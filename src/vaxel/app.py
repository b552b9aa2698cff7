"""`vaxel serve`: wire the store, the SIP core and the transports into one process."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from vaxel.calls.auth import Authenticator
from vaxel.calls.registrar import Location, Registrar, RegistrarPolicy
from vaxel.calls.switch import Switch
from vaxel.services import registrations, users
from vaxel.services.demo import ensure_demo
from vaxel.sip.digest import DigestServer
from vaxel.store import Store
from vaxel.transport.tcp import TcpTransport
from vaxel.transport.udp import UdpTransport

if TYPE_CHECKING:
    from vaxel.cli import ServeOptions

log = logging.getLogger("vaxel")

TIMER_TICK = 0.05
EXPIRY_INTERVAL = 30.0


def _secret(data: Path) -> bytes:
    """The key that signs digest nonces; kept in the data folder so restarts keep it."""
    path = data / "secret.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        key = secrets.token_bytes(32)
        data.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key.hex())
        return key


def _digest_algorithms() -> tuple[str, ...]:
    """The digest algorithms the switch challenges with, strongest first.

    MD5 alone by default: deployed clients such as baresip 1.x give up on a
    401 carrying any challenge they cannot compute, and SIPp answers only
    the first one, so offering SHA-256 beside MD5 (RFC 8760) locks them out.
    Where every client handles it, VAXEL_DIGEST_ALGORITHMS=SHA-256,MD5.
    """
    value = os.environ.get("VAXEL_DIGEST_ALGORITHMS", "MD5")
    return tuple(a.strip().upper() for a in value.split(",") if a.strip())


def _say(text: str) -> None:
    print(text, flush=True)


async def _run(options: ServeOptions, store: Store) -> int:
    location = Location(registrations.all_bindings(store))
    persist = registrations.WriteBehind(store)

    lookup = users.SipUserCache(store)
    switch = Switch(
        Authenticator(DigestServer(_secret(options.data), algorithms=_digest_algorithms()), lookup),
        Registrar(location, persist, RegistrarPolicy()),
        clock=time.time,
    )
    udp = await UdpTransport.listen(options.sip_host, options.sip_port, switch.receive)
    tcp = await TcpTransport.listen(options.sip_host, options.sip_port, switch.receive)
    switch.senders = {"UDP": udp, "TCP": tcp}
    assert udp.local is not None
    _say(f"vaxel: SIP on udp:{udp.local.host_port} and tcp:{tcp.local.host_port}")
    _say(f"vaxel: data in {options.data.resolve()}")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    async def drive_timers() -> None:
        while True:
            await asyncio.sleep(TIMER_TICK)
            switch.drive_timers()
            persist.flush()

    async def expire_bindings() -> None:
        while True:
            await asyncio.sleep(EXPIRY_INTERVAL)
            now = time.time()
            location.expire(now)
            registrations.delete_expired(store, now)
            tcp.close_idle()

    tasks = [asyncio.create_task(drive_timers()), asyncio.create_task(expire_bindings())]
    # What start-up built lives for the whole run: keep the collector off it,
    # and collect the young generation less often (a SIP message makes dozens
    # of short-lived objects, and each young collection walks them all).
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    await stop.wait()
    _say("vaxel: stopping")
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    udp.close()
    tcp.close()
    persist.flush()
    return 0


def serve(options: ServeOptions) -> int:
    logging.basicConfig(
        level=os.environ.get("VAXEL_LOG", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    store = Store.open(options.data)
    if options.demo:
        _announce_demo(options, ensure_demo(store, options.data))
    try:
        import uvloop  # type: ignore[import-not-found]
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    try:
        return runner(_run(options, store))
    except OSError as exc:
        print(f"vaxel: error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _announce_demo(options: ServeOptions, accounts: list[tuple[str, str]]) -> None:
    host = f"[{options.sip_host}]" if ":" in options.sip_host else options.sip_host
    _say("vaxel: demo company demo.vaxel.test")
    for extension, password in accounts:
        _say(f"  user {extension}  password {password}")
    _say(
        "  Point a softphone at it: account sip:1001@demo.vaxel.test, the password above,\n"
        f"  outbound proxy / registrar sip:{host}:{options.sip_port} (UDP or TCP)."
    )
