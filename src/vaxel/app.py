"""`vaxel serve` (P2, O1, P8): the assembled switch (`vaxel.assembly`) on real sockets, the
RTP engine and the wall clock, with its database writes on one worker thread (group commit:
registrations and call records are acknowledged once stored), in one asyncio loop; and the
web and API (`vaxel.web`) in a process of their own, started and linked here
(web/launcher.py, web/link.py)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import resource
import secrets
import signal
import ssl
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from vaxel import native
from vaxel.assembly import Core, assemble
from vaxel.calls.api import Call, Cause
from vaxel.calls.overload import SHED_AT, Overload
from vaxel.calls.records import call_record
from vaxel.features.agents import Agent, company_agents
from vaxel.features.click_to_call import CallPlacer
from vaxel.features.dialplan import CompanyDialplan
from vaxel.features.queue_live import QueueNow, live
from vaxel.features.transfer import TransferError
from vaxel.media.engine import MediaEngine
from vaxel.media.say import build_system_prompts
from vaxel.options import ServeOptions
from vaxel.services import (
    call_records,
    callbacks,
    meetings,
    recordings,
    registrations,
    report_output,
    voicemail,
)
from vaxel.services.call_records import NewCallRecord
from vaxel.services.demo import ensure_demo, ensure_demo_web
from vaxel.services.registrations import Binding, WriteBehind
from vaxel.sip.digest import DigestServer
from vaxel.store import Store
from vaxel.transport.base import Local, Receiver
from vaxel.transport.tcp import TcpTransport
from vaxel.transport.tls import TlsTransport, client_context
from vaxel.transport.udp import UdpTransport
from vaxel.transport.ws import WsTransport
from vaxel.web.launcher import WebProcess, listen
from vaxel.web.link import ConsoleAct, SwitchEnd, TransferCall

if TYPE_CHECKING:  # cryptography loads only when --tls asks for it
    from vaxel.transport.certificates import CertificateFiles

log = logging.getLogger("vaxel")
T = TypeVar("T")

TIMER_TICK = 0.05
EXPIRY_INTERVAL = 30.0
FULL_GC_INTERVAL = 600.0
RETENTION_INTERVAL = 3600.0  # voicemail and recordings older than a company keeps go this often
# A3: how often due meeting reminders are sent (VAXEL_REMINDER_INTERVAL, seconds, for tests).
REMINDER_INTERVAL = EXPIRY_INTERVAL


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


def _system_prompts(options: ServeOptions) -> Path:
    """The switch's own prompts (numbers, voicemail phrases, tones), made once if missing."""
    folder = Path(os.environ.get("VAXEL_SYSTEM_PROMPTS", options.data / "system-prompts"))
    made = build_system_prompts(folder)
    if made:
        _say(f"vaxel: made {len(made)} system prompts in {folder}")
    return folder


def _schedule_clock() -> Callable[[], datetime] | None:
    """VAXEL_SCHEDULE_NOW=2027-06-25T10:00+02:00 starts the opening-hours clock at that
    instant (it runs on from there): to try a company's holidays and hours before they
    come. Only schedules see it; calls, records and timers keep the real time."""
    value = os.environ.get("VAXEL_SCHEDULE_NOW")
    if not value:
        return None
    start = datetime.fromisoformat(value)
    if start.tzinfo is None:
        raise ValueError("VAXEL_SCHEDULE_NOW needs a UTC offset, e.g. 2027-06-25T10:00+02:00")
    offset = start.timestamp() - time.time()
    return lambda: datetime.fromtimestamp(time.time() + offset, UTC)


def _raise_open_files_limit() -> None:
    """Two sockets per call leg: take the hard limit on open files, not the soft 1024."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (OSError, ValueError) as error:
        log.warning("could not raise the open files limit: %s", error)


class _DatabaseThread:
    """Database writes on one worker thread, in order (`services.company.Background`): a
    commit (or a WAL checkpoint's fsync) must never stall the loop that answers SIP."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vaxel-db")

    def run(self, work: Callable[[], T], then: Callable[[T], None] | None = None) -> None:
        future = self.loop.run_in_executor(self.executor, work)

        def done(future: asyncio.Future[T]) -> None:
            if future.cancelled():
                return
            error = future.exception()
            if error is not None:
                log.error("database work failed", exc_info=error)
            elif then is not None:
                then(future.result())

        future.add_done_callback(done)

    def submit(self, work: Callable[[], T]) -> asyncio.Future[T]:
        return self.loop.run_in_executor(self.executor, work)

    def shutdown(self) -> None:
        self.executor.shutdown()  # waits for what is already queued


class _Bindings:
    """Group commit of registrations: a batch is written as soon as the previous one is,
    and the REGISTERs it holds are answered when it is committed (WriteBehind)."""

    def __init__(self, persist: WriteBehind, database: _DatabaseThread) -> None:
        self.persist = persist
        self.database = database
        self.writing = False
        self.woken = False
        persist.queued = self.soon

    def soon(self) -> None:
        """A change waits: store it in this loop turn's batch, unless a write is under way
        (then it goes with the next one, right after)."""
        if not self.writing and not self.woken:
            self.woken = True
            self.database.loop.call_soon(self.store)

    def store(self) -> None:
        self.woken = False
        if self.writing or not self.persist.due:
            return
        self.writing = True
        batch = self.persist.take()
        self.database.run(partial(self._write, batch), self._written)

    def _write(self, batch: list[tuple[int, int, list[Binding]]]) -> bool:
        try:
            self.persist.write(batch)
        except Exception:
            log.exception("could not store %d users' registrations", len(batch))
            return False
        return True

    def _written(self, stored: bool) -> None:
        self.writing = False
        self.persist.written(stored)
        self.store()  # what queued meanwhile: the next group


class _CallRecords:
    """Group commit of call records: a finished call's record is written with whatever
    finished while the previous batch was written, and the BYE that ended the call is
    answered once its record is committed."""

    def __init__(self, store: Store, database: _DatabaseThread) -> None:
        self.store = store
        self.database = database
        self.waiting: list[tuple[NewCallRecord, Callable[[], None]]] = []
        self.writing = False

    def finished(self, call: Call, stored: Callable[[], None]) -> None:
        self.waiting.append((call_record(call), stored))
        if not self.writing and len(self.waiting) == 1:
            self.database.loop.call_soon(self._write_next)

    def _write_next(self) -> None:
        if self.writing or not self.waiting:
            return
        self.writing = True
        batch, self.waiting = self.waiting, []
        records = [record for record, _ in batch]
        self.database.run(partial(self._write, records), lambda _: self._written(batch))

    def _write(self, records: list[NewCallRecord]) -> None:
        try:
            call_records.write_records(self.store, records)
        except Exception:
            log.exception("could not write %d call records", len(records))

    def _written(self, batch: list[tuple[NewCallRecord, Callable[[], None]]]) -> None:
        self.writing = False
        for _, stored in batch:
            stored()
        self._write_next()

    def flush(self) -> None:
        """Write what is left (shutdown: the loop is stopping)."""
        if self.waiting:
            self._write([record for record, _ in self.waiting])
            self.waiting = []


async def _run(options: ServeOptions, store: Store) -> int:
    _raise_open_files_limit()
    system_prompts = _system_prompts(options)
    recovered = recordings.recover(store, options.data)  # A6: cut off by a crash
    if recovered:
        _say(f"vaxel: {recovered} recordings cut off by a stop were repaired and listed")
    loop = asyncio.get_running_loop()
    database = _DatabaseThread(loop)
    records = _CallRecords(store, database)

    media = MediaEngine(options.sip_host, (options.rtp_low, options.rtp_high), clock=time.time)
    core = assemble(
        store,
        media=media,
        clock=time.time,
        background=database,
        data=options.data,
        system_prompts=system_prompts,
        digest=DigestServer(_secret(options.data), algorithms=_digest_algorithms()),
        finished=records.finished,
        schedule_clock=_schedule_clock(),
        rtp_timeout=float(os.environ.get("VAXEL_RTP_TIMEOUT", "60")),
    )
    inbound, persist = core.inbound, core.persist
    kept = _restore_callbacks(core, store)
    if kept:
        _say(f"vaxel: callbacks asked for before the stop wait again: {kept}")
    bindings = _Bindings(persist, database)
    udp = await UdpTransport.listen(options.sip_host, options.sip_port, inbound.receive)
    tcp = await TcpTransport.listen(options.sip_host, options.sip_port, inbound.receive)
    assert udp.local is not None
    core.outbox.add(udp, udp.local)
    core.outbox.add(tcp, tcp.local)
    tls: _Tls | None = None
    if options.tls is not None:  # P2, O2: SIP over TLS
        tls = await _Tls.start(options, store, inbound.receive)
        tls.transport.dialer = _TrunkDialer(core)
        core.outbox.add(tls.transport, tls.transport.local)
    web = None
    websockets: WsTransport | None = None
    if options.http is not None:
        http = listen(*options.http)
        # The same web over HTTPS, with the TLS certificate (P2, U1: wss for browsers).
        https = listen(*options.https) if options.https is not None and tls is not None else None
        secure = Local("WSS", *https.getsockname()[:2]) if https is not None else None
        # P2, U1: SIP over WebSocket at /ws of the web's listener (RFC 7118), relayed by
        # the web process over the link; our Via and Contact name that listener.
        websockets = WsTransport(inbound.receive, Local("WS", *http.getsockname()[:2]),
                                 closed=core.flow_failed, secure_local=secure)  # fmt: skip
        core.outbox.add(websockets, websockets.local)
        if secure is not None:
            core.outbox.add(websockets, secure)
        link = SwitchEnd(
            core.bus,
            changed=core.directory.invalidate,
            place_call=_click_to_call(core),
            conference=_conference(core),
            add_party=_add_party(core),
            end_wrap_up=_end_wrap_up(core),
            queue_live=_queue_live(core),
            agents=_agents(core),
            transfer=_transfer(core),
            recording=core.recordings.control,
            console=_console(core),
            stats=lambda: {
                "vaxel_calls_active": len(core.calls.calls),
                "vaxel_devices_registered": core.location.devices(),
                "vaxel_calls_shed_total": inbound.shed,
                "vaxel_overloaded": int(inbound.shedding),
            },
            sip=websockets,
        )
        websockets.attach(link.send)
        certificate = (tls.files.certificate, tls.files.key) if tls is not None else None
        web = WebProcess(options.data, http, link, https=https, certificate=certificate)
        web.start()
        _say(f"vaxel: web and API on {web.address} (API docs at {web.address}/api/docs)")
        if https is not None:
            _say(f"vaxel: web and API also on {web.secure_address}")
        # U1: browsers allow the microphone on 127.0.0.1 or over HTTPS only.
        also = f", or {web.secure_address}/phone" if https is not None else ""
        _say(f"vaxel: the users' softphone at {web.address}/phone{also}")
        if options.demo:
            _announce_web(store, options.data)
    if tls is None:
        _say(f"vaxel: SIP on udp:{udp.local.host_port} and tcp:{tcp.local.host_port}")
    else:
        _say(
            f"vaxel: SIP on udp:{udp.local.host_port}, tcp:{tcp.local.host_port}"
            f" and tls:{tls.transport.local.host_port}"
        )
    if websockets is not None:
        _say(f"vaxel: SIP over WebSocket on ws://{websockets.local.host_port}/ws")
        if websockets.secure_local is not None:
            _say(
                f"vaxel: SIP over secure WebSocket on wss://{websockets.secure_local.host_port}/ws"
            )
    _say(f"vaxel: RTP on {options.sip_host} ports {options.rtp_low}-{options.rtp_high}")
    if not native.in_use():
        _say("vaxel: running from the Python sources (`make` compiles the hot path)")
    _say(f"vaxel: data in {options.data.resolve()}")

    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if tls is not None:

        def reload_certificates() -> None:
            tls.reload("SIGHUP")
            if web is not None:
                web.reload_certificate()  # the web's HTTPS, which uses the same files

        loop.add_signal_handler(signal.SIGHUP, reload_certificates)

    # VAXEL_SHED_AT: datagrams waiting before new calls get 503 (calls/overload.py).
    overload = Overload(int(os.environ.get("VAXEL_SHED_AT", str(SHED_AT))))

    async def drive_timers() -> None:
        while True:
            await asyncio.sleep(TIMER_TICK)
            shedding = overload.update(udp.backlog())
            if shedding != inbound.shedding:
                inbound.shedding = shedding
                if shedding:
                    log.warning("overloaded: new calls get 503 until the backlog clears")
                else:
                    log.warning("overload over: %d calls turned away so far", inbound.shed)
            core.drive_timers()
            media.prepare()  # RTP port pairs bound ahead of a rise in calls
            bindings.store()  # refreshes that came due (changes are stored at once)

    next_full_gc = [time.monotonic() + FULL_GC_INTERVAL]
    next_retention = [time.monotonic()]

    def expired_voicemail(removed: int) -> None:
        if removed:
            core.mwi.recount()

    async def housekeeping() -> None:
        while True:
            await asyncio.sleep(EXPIRY_INTERVAL)
            now = time.time()
            persist.forget(core.registrar.expire(now))
            await database.submit(partial(registrations.delete_expired, store, now))
            tcp.close_idle()
            if tls is not None:
                tls.transport.close_idle()
            if time.monotonic() >= next_retention[0]:
                next_retention[0] = time.monotonic() + RETENTION_INTERVAL
                sweep = partial(voicemail.expire_by_retention, store, datetime.now(UTC))
                database.run(sweep, expired_voicemail)
                # A6: recordings older than their company keeps, rows then files.
                database.run(partial(recordings.expire_by_retention, store, datetime.now(UTC)))
            if time.monotonic() >= next_full_gc[0]:
                next_full_gc[0] = time.monotonic() + FULL_GC_INTERVAL
                gc.collect()

    async def reminders() -> None:
        """A3: meeting reminders that came due, at start (a switch that was down catches
        up; occurrences that started meanwhile are not reminded) and then every
        REMINDER_INTERVAL, on the database thread; a round still sending is not doubled.
        S9, A10: report sets whose schedule period began are mailed in the same round."""
        interval = float(os.environ.get("VAXEL_REMINDER_INTERVAL", REMINDER_INTERVAL))
        while True:
            try:
                await database.submit(partial(meetings.send_reminders, store, datetime.now(UTC)))
            except Exception:
                log.exception("meeting reminders failed")
            try:  # S9, A10: report sets mailed once per period, as they come due
                await database.submit(partial(report_output.send_due, store, datetime.now(UTC)))
            except Exception:
                log.exception("scheduled report mails failed")
            await asyncio.sleep(interval)

    tasks = [asyncio.create_task(drive_timers()), asyncio.create_task(housekeeping()),
             asyncio.create_task(reminders())]  # fmt: skip
    if tls is not None:
        tasks.append(asyncio.create_task(tls.watch()))
    # The cyclic garbage collector, tuned for a switch. What start-up built is
    # frozen out of it. Young collections keep their default pace: they are
    # short because SIP objects die young (reference counting frees them).
    # The full collection walks every live transaction and binding, which
    # under load took half a second and overflowed the UDP receive buffer, so
    # it runs on a slow clock (housekeeping) instead of on allocation counts.
    gc.collect()
    gc.freeze()
    gc.set_threshold(700, 10, 1_000_000)
    await stop.wait()
    _say("vaxel: stopping")
    if web is not None:
        await web.stop()
    core.calls.shutdown()
    core.switch.drive_timers()
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    udp.close()
    tcp.close()
    if tls is not None:
        tls.transport.close()
    media.close()
    database.shutdown()  # waits for the batches already queued
    records.flush()
    persist.flush()
    return 0


def serve(options: ServeOptions) -> int:
    logging.basicConfig(
        level=os.environ.get("VAXEL_LOG", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if os.environ.get("VAXEL_SIP_TRACE", "") not in ("", "0"):
        logging.getLogger("vaxel.sip.trace").setLevel(logging.DEBUG)
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


class _Tls:
    """SIP over TLS (P2, O2): the listening transport and its certificate files, reloaded
    on SIGHUP and when the files change (new connections get the new certificate; one
    that does not load is refused with a log line and the old one kept)."""

    def __init__(self, transport: TlsTransport, files: CertificateFiles) -> None:
        self.transport = transport
        self.files = files

    @classmethod
    async def start(cls, options: ServeOptions, store: Store, receiver: Receiver) -> _Tls:
        from vaxel.services.companies import list_companies
        from vaxel.transport.certificates import CertificateFiles, self_signed

        assert options.tls is not None
        host, port = options.tls
        if options.tls_certificate is not None and options.tls_key is not None:
            certificate, key, made = options.tls_certificate, options.tls_key, False
        else:
            domains = [company.domain for company in list_companies(store)]
            certificate, key, made = self_signed(options.data / "tls", [host, *domains])
        files = CertificateFiles(certificate, key)
        try:
            context, fingerprint = files.load()
        except (OSError, ValueError) as exc:
            raise OSError(f"cannot load the TLS certificate {certificate}: {exc}") from None
        what = "a self-signed TLS certificate made now" if made else "the TLS certificate"
        _say(f"vaxel: {what}: {certificate.resolve()}")
        _say(f"  SHA-256 fingerprint {fingerprint}")
        transport = await TlsTransport.listen_tls(host, port, receiver, context)
        return cls(transport, files)

    def reload(self, why: str) -> None:
        try:
            context, fingerprint = self.files.load()
        except (OSError, ValueError) as exc:
            log.error("TLS certificate not reloaded (%s), the old one kept: %s", why, exc)
            return
        self.transport.use(context)
        log.warning("TLS certificate reloaded (%s): SHA-256 %s", why, fingerprint)

    async def watch(self) -> None:
        """Reload when the files change (VAXEL_TLS_CHECK_INTERVAL seconds, for tests)."""
        interval = float(os.environ.get("VAXEL_TLS_CHECK_INTERVAL", EXPIRY_INTERVAL))
        while True:
            await asyncio.sleep(interval)
            if self.files.changed():
                self.reload("the files changed")


class _TrunkDialer:
    """P6, O2: the switch connects over TLS to a trunk of a company's description (never to
    an address from a message), checking its certificate for the trunk's domain (else its
    host) against `ca_file` or the system's CAs; one client context per CA file."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.contexts: dict[str | None, ssl.SSLContext] = {}

    def __call__(self, host: str, port: int) -> tuple[ssl.SSLContext, str] | None:
        for trunk in self.core.router.trunks.values():
            if trunk.transport == "tls" and (trunk.host, trunk.port) == (host, port):
                ca_file: str | None = getattr(trunk, "ca_file", None)
                context = self.contexts.get(ca_file)
                if context is None:
                    try:
                        context = client_context(ca_file)
                    except (OSError, ValueError) as exc:
                        log.error("trunk tls:%s:%s: its CAs do not load: %s", host, port, exc)
                        return None
                    self.contexts[ca_file] = context
                return context, trunk.domain or trunk.host
        return None


def _announce_demo(options: ServeOptions, accounts: list[tuple[str, str]]) -> None:
    host = f"[{options.sip_host}]" if ":" in options.sip_host else options.sip_host
    tls = ""
    if options.tls is not None:
        tls_host = f"[{options.tls[0]}]" if ":" in options.tls[0] else options.tls[0]
        tls = f",\n  or sip:{tls_host}:{options.tls[1]};transport=tls over TLS"
    _say("vaxel: demo company demo.vaxel.test")
    for extension, password in accounts:
        _say(f"  user {extension}  password {password}")
    _say(
        "  Point a softphone at it: account sip:1001@demo.vaxel.test, the password above,\n"
        f"  outbound proxy / registrar sip:{host}:{options.sip_port} (UDP or TCP){tls}.\n"
        "  Call 1002 from 1001, or dial 0812345600, the company's main number: welcome,\n"
        "  menu (1 sales group, 2 Lars, 9 voicemail), opening hours; *98 is your voicemail."
    )


def _restore_callbacks(core: Core, store: Store) -> int:
    """A5, A18: the callbacks the list says still wait take their places again (the
    places lived in the switch that stopped)."""
    from vaxel.features.queue_callback import restore

    core.directory.refresh()
    restored = 0
    for company_id, infos in callbacks.pending(store).items():
        company = core.directory.company(company_id)
        if company is not None:
            restored += restore(company, core.calls, infos, datetime.now(UTC))
    return restored


def _click_to_call(core: Core) -> Callable[[int, str, str, str], tuple[str, str]]:
    placer = CallPlacer(
        core.calls, core.directory, CompanyDialplan(core.directory), core.authenticator.lookup
    )

    def place(company_id: int, domain: str, extension: str, number: str) -> tuple[str, str]:
        call = placer.call(company_id, domain, extension, number)
        return call.id, call.dialled or number

    return place


def _conference(core: Core) -> Callable[[int, str, str, str, bool], tuple[str, object]]:
    """A3: the API's questions about a room in use, answered on the switch's loop."""
    from vaxel.features.conference import room_action

    def act(
        company_id: int, name: str, action: str, participant: str, value: bool
    ) -> tuple[str, object]:
        return room_action(core.directory.company(company_id), name, action, participant, value)

    return act


def _add_party(core: Core) -> Callable[[int, str, str, str], tuple[str, object]]:
    """U12: the API's request to add a third party to a call, done on the switch's loop."""
    from vaxel.features.three_way import add_party

    def add(company_id: int, extension: str, call_id: str, to: str) -> tuple[str, object]:
        call = core.calls.calls.get(call_id)
        return add_party(core.directory.company(company_id), call, extension, to)

    return add


def _end_wrap_up(core: Core) -> Callable[[int, str], None]:
    """A5: the API's "ready now": the user's wrap-up ends, on the switch's loop."""

    def end(company_id: int, extension: str) -> None:
        company = core.directory.company(company_id)
        if company is not None:
            company.set_wrap_up(extension, None)

    return end


def _queue_live(core: Core) -> Callable[[int], list[QueueNow]]:
    """A11: the web's question "who waits in the queues now, and how are the agents?",
    answered on the switch's loop (features/queue_live.py); [] for a company not here."""

    def now(company_id: int) -> list[QueueNow]:
        company = core.directory.company(company_id)
        return [] if company is None else live(company, core.calls.now())

    return now


def _agents(core: Core) -> Callable[[int], list[Agent]]:
    """A5: the company's agents and their states, as the switch sees them now."""

    def agents(company_id: int) -> list[Agent]:
        company = core.directory.company(company_id)
        return [] if company is None else company_agents(company, core.calls.now())

    return agents


def _console(core: Core) -> ConsoleAct:
    """A16: the operator console's questions and actions, on the switch's loop."""
    from vaxel.features import console

    def act(
        company_id: int, operator: str, action: str, call_id: str, to: str
    ) -> tuple[str, object]:
        company = core.directory.company(company_id)
        if company is None:
            return "refused", (404, "no such call")
        if action == "calls":
            return "ok", console.calls(company, operator, core.calls.now())
        if action == "busy":  # who is in a call now (the console's line states at first)
            return "ok", [u.ext for u in company.config.users if company.busy(u.ext)]
        if action == "answer":
            return console.answer(core.calls, company, operator, call_id)
        if action == "consult":
            return console.ask_first(company, operator, call_id, to)
        if action == "complete":
            return console.complete(company, operator, call_id)
        if action == "back":
            return console.back(company, operator, call_id)
        return "refused", (422, f"no console action {action!r}")

    return act


def _transfer(core: Core) -> TransferCall:
    """The API's transfer of a live call (P4, P8): the switch's answer to the web."""

    def transfer(
        company_id: int, call_id: str, requester: str | None, party: str | None,
        admin: bool, to: str,
    ) -> tuple[str, str, str]:  # fmt: skip
        done = core.calls.transfer_call(company_id, call_id, requester, party, admin, to)
        if isinstance(done, Cause):
            raise TransferError(done.code, done.text)
        return done

    return transfer


def _announce_web(store: Store, data: Path) -> None:
    _say("vaxel: demo web logins (POST /api/v1/login, or the pages):")
    for role, login, password in ensure_demo_web(store, data):
        what = {"provider": "provider admin", "admin": "company admin", "user": "user"}[role]
        _say(f"  {what:<15} {login}  password {password}")
