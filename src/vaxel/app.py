"""`vaxel serve`: wire the store, the SIP core and the transports into one process."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import resource
import secrets
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vaxel import native
from vaxel.calls.api import Call
from vaxel.calls.auth import Authenticator
from vaxel.calls.b2bua import B2BUA
from vaxel.calls.directory import CompanyDirectory
from vaxel.calls.mwi import MessageWaiting
from vaxel.calls.overload import SHED_AT, Overload
from vaxel.calls.records import call_record
from vaxel.calls.registrar import Location, Registrar, RegistrarPolicy
from vaxel.calls.router import Router
from vaxel.calls.switch import Switch, is_ip
from vaxel.calls.trunks import TrunkRegistrations
from vaxel.features.context import Company
from vaxel.media.engine import MediaEngine
from vaxel.media.say import build_system_prompts
from vaxel.services import call_records, presence_settings, registrations, users, voicemail
from vaxel.services.call_records import NewCallRecord
from vaxel.services.demo import ensure_demo
from vaxel.services.notify import (
    MailSettings,
    NotifyError,
    send_sms,
    send_voicemail_mail,
    voicemail_sms_text,
)
from vaxel.sip.digest import DigestServer
from vaxel.store import Store
from vaxel.transport.tcp import TcpTransport
from vaxel.transport.udp import UdpTransport

if TYPE_CHECKING:
    from vaxel.cli import ServeOptions

log = logging.getLogger("vaxel")

TIMER_TICK = 0.05
RECORD_INTERVAL = 0.25  # call records are written in one transaction this often
EXPIRY_INTERVAL = 30.0
FULL_GC_INTERVAL = 600.0


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


def _voicemail_saved(store: Store, company: Company, message: dict[str, Any]) -> None:
    """A message was left (on the database thread): store it, then tell its owners."""
    saved = voicemail.save_message(
        store,
        company.id,
        message["box"],
        caller=message["caller"],
        caller_name=message["caller_name"],
        received_at=datetime.now(UTC),
        duration_seconds=message["seconds"],
        path=message["path"],
    )
    config = company.config
    box = config.voicemail.get(saved.box)
    user = next((u for u in config.users if u.ext == saved.box), None)
    recipients = list(box.email) if box is not None else []
    if user is not None and user.voicemail.email:
        recipients.append(user.voicemail.email)
    phones = list(box.sms) if box is not None else []
    if user is not None and user.voicemail.sms:
        phones.append(user.voicemail.sms)
    if phones and config.sms is not None:
        text = voicemail_sms_text(
            saved.caller, saved.received_at, saved.duration_seconds, config.company.language,
            timezone=config.company.timezone, box_name=saved.box,
        )  # fmt: skip
        for phone in phones:
            try:
                send_sms(config.sms, phone, text, caller=saved.caller)
            except NotifyError as exc:
                log.warning("voicemail SMS to %s not sent: %s", phone, exc)
    if not recipients or config.mail is None:
        return
    settings = MailSettings(host=config.mail.host, port=config.mail.port, sender=config.mail.sender)
    try:
        send_voicemail_mail(
            settings, to=recipients, caller=saved.caller, caller_name=saved.caller_name,
            received_at=saved.received_at, duration_seconds=saved.duration_seconds,
            wav_path=saved.path, box_name=saved.box, language=config.company.language,
            timezone=config.company.timezone,
        )  # fmt: skip
    except NotifyError as exc:
        log.warning("voicemail e-mail for %s not sent: %s", saved.box, exc)


def _raise_open_files_limit() -> None:
    """Two sockets per call leg: take the hard limit on open files, not the soft 1024."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (OSError, ValueError) as error:
        log.warning("could not raise the open files limit: %s", error)


async def _run(options: ServeOptions, store: Store) -> int:
    _raise_open_files_limit()
    system_prompts = _system_prompts(options)
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
    switch.locals = {"UDP": udp.local, "TCP": tcp.local}
    _say(f"vaxel: SIP on udp:{udp.local.host_port} and tcp:{tcp.local.host_port}")
    _say(f"vaxel: RTP on {options.sip_host} ports {options.rtp_low}-{options.rtp_high}")
    if not native.in_use():
        _say("vaxel: running from the Python sources (`make` compiles the hot path)")
    _say(f"vaxel: data in {options.data.resolve()}")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    # Database writes run on one worker thread, in order: a commit (or a WAL
    # checkpoint's fsync) must never stall the loop that answers SIP.
    db_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vaxel-db")
    writing: asyncio.Future[None] | None = None

    finished_calls: list[NewCallRecord] = []

    def record(call: Call) -> None:
        finished_calls.append(call_record(call))  # written in batches by drive_timers

    def write_call_records(batch: list[NewCallRecord]) -> None:
        try:
            call_records.write_records(store, batch)
        except Exception:
            log.exception("could not write %d call records", len(batch))

    media = MediaEngine(options.sip_host, (options.rtp_low, options.rtp_high), clock=time.time)
    calls = B2BUA(
        switch,
        media,
        clock=time.time,
        finished=record,
        is_local=switch.is_local,
        rtp_timeout=float(os.environ.get("VAXEL_RTP_TIMEOUT", "60")),
        hold_music=system_prompts / "sv" / "music.wav",
    )
    router = Router(lookup, location, is_ip)

    def extend(company: Company) -> None:
        """What a company's call flows reach in the running switch."""
        company.busy = lambda ext: calls.in_call(company.id, ext)
        company.outbound_calls = lambda: calls.outbound_calls(company.id)

        def saved(future: asyncio.Future[None], box: str) -> None:
            mwi.changed(company.id, box)  # on the loop, once the message is stored

        def save_voicemail(**message: Any) -> None:
            future = loop.run_in_executor(db_writer, _voicemail_saved, store, company, message)
            future.add_done_callback(lambda f: saved(f, message["box"]))

        company.save_voicemail = save_voicemail

        def set_logged_in(ext: str, on: bool) -> None:
            groups = [name for name, g in company.config.groups.items() if ext in g.members]
            for group in groups:
                loop.run_in_executor(
                    db_writer, presence_settings.set_logged_in, store, company.id, group, ext, on
                )

        company.set_logged_in = set_logged_in

        def changed_box(box: str) -> Callable[[asyncio.Future[None]], None]:
            return lambda future: mwi.changed(company.id, box)

        def mark_heard(box: str, message_id: int, heard: bool) -> None:
            future = loop.run_in_executor(
                db_writer, voicemail.mark_heard, store, company.id, message_id, heard
            )
            future.add_done_callback(changed_box(box))

        def delete_message(box: str, message_id: int) -> None:
            future = loop.run_in_executor(
                db_writer, voicemail.delete_message, store, company.id, message_id
            )
            future.add_done_callback(changed_box(box))

        company.messages = lambda box: voicemail.list_messages(store, company.id, box)
        company.mark_heard = mark_heard
        company.delete_message = delete_message
        company.save_greeting = lambda box, path: path.replace(company.greeting_path(box))
        company.set_forwarding = lambda ext, kind, target: loop.run_in_executor(
            db_writer, presence_settings.set_forwarding, store, company.id, ext, kind, target
        )
        company.set_voicemail = lambda ext, on: loop.run_in_executor(
            db_writer, presence_settings.set_voicemail, store, company.id, ext, on
        )

    def boxes(company_id: int, extension: str) -> list[str]:
        company = directory.company(company_id)
        shared = company.config.voicemail.items() if company is not None else ()
        return [extension, *(name for name, box in shared if extension in box.members)]

    mwi = MessageWaiting(
        switch,
        clock=time.time,
        counts=lambda cid, box: voicemail.counts(store, cid, box),
        boxes=boxes,
    )
    switch.mwi = mwi

    directory = CompanyDirectory(
        store,
        router,
        lookup,
        data=options.data,
        system_prompts=system_prompts,
        schedule_clock=_schedule_clock(),
        extend=extend,
        reloaded=lambda directory: trunk_registrations.sync(directory.trunk_configs()),
    )
    trunk_registrations = TrunkRegistrations(switch, clock=time.time, after=calls.after)
    switch.attach_calls(calls, router, directory)

    next_records = [0.0]
    # VAXEL_SHED_AT: datagrams waiting before new calls get 503 (calls/overload.py).
    overload = Overload(int(os.environ.get("VAXEL_SHED_AT", str(SHED_AT))))

    async def drive_timers() -> None:
        nonlocal writing
        while True:
            await asyncio.sleep(TIMER_TICK)
            shedding = overload.update(udp.backlog())
            if shedding != switch.shedding:
                switch.shedding = shedding
                if shedding:
                    log.warning("overloaded: new calls get 503 until the backlog clears")
                else:
                    log.warning("overload over: %d calls turned away so far", switch.shed)
            switch.drive_timers()
            media.prepare()  # RTP port pairs bound ahead of a rise in calls
            directory.refresh()
            if persist.due and (writing is None or writing.done()):
                writing = loop.run_in_executor(db_writer, persist.write, persist.take())
            if finished_calls and time.monotonic() >= next_records[0]:
                next_records[0] = time.monotonic() + RECORD_INTERVAL
                batch = finished_calls[:]
                finished_calls.clear()
                loop.run_in_executor(db_writer, write_call_records, batch)

    next_full_gc = [time.monotonic() + FULL_GC_INTERVAL]

    async def housekeeping() -> None:
        while True:
            await asyncio.sleep(EXPIRY_INTERVAL)
            now = time.time()
            persist.forget(location.expire(now))
            await loop.run_in_executor(db_writer, registrations.delete_expired, store, now)
            tcp.close_idle()
            if time.monotonic() >= next_full_gc[0]:
                next_full_gc[0] = time.monotonic() + FULL_GC_INTERVAL
                gc.collect()

    tasks = [asyncio.create_task(drive_timers()), asyncio.create_task(housekeeping())]
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
    calls.shutdown()
    switch.drive_timers()
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    udp.close()
    tcp.close()
    media.close()
    if writing is not None:
        await writing
    db_writer.shutdown()  # waits for the batches already queued
    if finished_calls:
        write_call_records(finished_calls)
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


def _announce_demo(options: ServeOptions, accounts: list[tuple[str, str]]) -> None:
    host = f"[{options.sip_host}]" if ":" in options.sip_host else options.sip_host
    _say("vaxel: demo company demo.vaxel.test")
    for extension, password in accounts:
        _say(f"  user {extension}  password {password}")
    _say(
        "  Point a softphone at it: account sip:1001@demo.vaxel.test, the password above,\n"
        f"  outbound proxy / registrar sip:{host}:{options.sip_port} (UDP or TCP).\n"
        "  Call 1002 from 1001, or dial 0812345600, the company's main number: welcome,\n"
        "  menu (1 sales group, 2 Lars, 9 voicemail), opening hours; *98 is your voicemail."
    )
