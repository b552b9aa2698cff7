"""The switch's parts, each given what it needs, in one place (P2, P4 and the features on them).

`assemble` builds the SIP core, the calls and the company services around a
store, a media backend, a clock and a background writer, and returns them
as a `Core`. `vaxel serve` (app.py) runs it on real sockets, the RTP engine
and the wall clock; the in-memory harness runs the very same core on
`transport.memory`, `media.memory` and a fake clock. Transports come last:
they need the input pipeline (`core.inbound.receive`), and are added to
`core.outbox` once they listen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from vaxel.bus import BoxChanged, Bus, ChatKept, ChatSent, DiversionChanged
from vaxel.calls.api import Call
from vaxel.calls.auth import Authenticator
from vaxel.calls.b2bua import B2BUA, RTP_TIMEOUT, Finished, Media
from vaxel.calls.inbound import Inbound
from vaxel.calls.lines import Lines, running
from vaxel.calls.live import LiveCalls
from vaxel.calls.messaging import Messaging
from vaxel.calls.mwi import Boxes, MessageWaiting
from vaxel.calls.presence import LineWatchers, diversion_activity, diversion_note
from vaxel.calls.publish import CallPublisher
from vaxel.calls.registrar import Location, Registrar, RegistrarPolicy
from vaxel.calls.router import Router
from vaxel.calls.signalling import Outbox, Signalling
from vaxel.calls.switch import Switch
from vaxel.calls.trunks import TrunkRegistrations
from vaxel.features.dialplan import CompanyDialplan
from vaxel.features.in_call import InCallCodes
from vaxel.features.recording import Recordings
from vaxel.features.transfer import Transfers
from vaxel.services import chat, registrations, users, voicemail
from vaxel.services.company import Background
from vaxel.services.directory import Directory
from vaxel.sip.digest import DigestServer
from vaxel.sip.transaction import TransactionLayer
from vaxel.store import Store
from vaxel.transport.base import Source


@dataclass
class Core:
    """The running switch's parts (what `vaxel serve` and the tests drive)."""

    bus: Bus
    outbox: Outbox
    signalling: Signalling
    authenticator: Authenticator
    location: Location
    persist: registrations.WriteBehind
    registrar: Registrar
    router: Router
    calls: B2BUA
    directory: Directory
    mwi: MessageWaiting
    lines: Lines
    watchers: LineWatchers
    trunk_registrations: TrunkRegistrations
    switch: Switch
    inbound: Inbound
    recordings: Recordings  # A6: calls recorded by rule and on demand
    messaging: Messaging  # U4: chat over SIP MESSAGE

    def flow_failed(self, source: Source) -> None:
        """A flow failed for good (a WebSocket closed, RFC 5626 §4.4): its bindings go,
        requests waiting on it fail at once, and calls over it end, so the users' lines
        say what is true and no call rings a device that is gone (P2, U1)."""
        now = self.signalling.clock()
        self.registrar.flow_failed(source, now)
        self.signalling.execute(self.signalling.transactions.peer_failed(source, now))
        self.calls.flow_failed(source)

    def drive_timers(self) -> None:
        """What the switch does on every tick: timers of transactions, calls and
        subscriptions, and a look at whether the companies' descriptions changed."""
        self.switch.drive_timers()
        self.directory.refresh()


def assemble(
    store: Store,
    *,
    media: Media[Any],
    clock: Callable[[], float],
    background: Background,
    data: Path,
    system_prompts: Path,
    digest: DigestServer,
    finished: Finished,
    schedule_clock: Callable[[], datetime] | None = None,
    rtp_timeout: float = RTP_TIMEOUT,
) -> Core:
    bus = Bus()
    lookup = users.SipUserCache(store)
    outbox = Outbox()
    signalling = Signalling(TransactionLayer(), outbox, clock)
    authenticator = Authenticator(digest, lookup)
    registrations.delete_websocket_flows(store)  # their WebSockets did not outlive the switch
    location = Location(registrations.all_bindings(store))
    persist = registrations.WriteBehind(store)
    registrar = Registrar(location, persist, RegistrarPolicy(), bus)
    router = Router(location)
    freed: list[Callable[[int, set[str]], None]] = []  # told who a finished call let go

    def finishing(call: Call, stored: Callable[[], None]) -> None:
        parties = {leg.party for leg in call.legs}
        try:
            finished(call, stored)
        finally:
            for tell in freed:
                tell(call.company_id, parties)

    calls = B2BUA(
        signalling,
        media,
        router.resolve,
        clock=clock,
        finished=finishing,
        rtp_timeout=rtp_timeout,
        hold_music=system_prompts / "sv" / "music.wav",
        publisher=CallPublisher(bus, clock),
    )
    trunk_registrations = TrunkRegistrations(signalling, clock=clock, after=calls.after)

    def reloaded(directory: Directory) -> None:
        trunks = directory.trunk_configs()
        router.use_trunks(trunks)
        trunk_registrations.sync(trunks)

    directory = Directory(
        store,
        live=LiveCalls(calls, router, lookup, clock),
        background=background,
        bus=bus,
        data=data,
        system_prompts=system_prompts,
        clock=clock,
        schedule_clock=schedule_clock,
        reloaded=reloaded,
    )
    mwi = MessageWaiting(
        signalling,
        clock=clock,
        counts=lambda company_id, box: voicemail.counts(store, company_id, box),
        boxes=_mwi_boxes(directory),
    )
    bus.subscribe(BoxChanged, lambda event: mwi.changed(event.company_id, event.box))
    lines, watchers = _lines(bus, clock, calls, directory, lookup, signalling)

    def available(company_id: int, parties: set[str]) -> None:
        """A5: a call ended: its parties who answer queues are offered their first caller
        now (on the loop's next turn, the call gone from the switch's books), not at the
        queue's next try."""
        company = directory.company(company_id)
        if company is None:
            return
        for party in parties:
            if company.user(party) is not None:
                calls.after(0.0, lambda party=party: company.agent_available(party))  # type: ignore[misc]

    freed.append(available)
    dialplan = CompanyDialplan(directory)
    plan_transfer = Transfers(directory, dialplan, lookup).plan
    calls.plan_transfer = plan_transfer
    recordings = Recordings(
        directory, media.pacer, data, clock=clock, find=calls.calls.get, store=store,
        background=background,
    )  # fmt: skip
    calls.on_bridged = recordings.bridged
    codes = InCallCodes(directory, plan_transfer, partial(recordings.act, action="toggle"))
    calls.in_call_codes = codes.codes
    calls.on_code = codes.run
    calls.on_info = recordings.info
    calls.srtp_policy = _srtp_policy(directory)
    messaging = Messaging(
        signalling, router, lookup, ChatStore(store), background, clock=clock,
        waiting=chat.waiting_recipients(store),
        kept=partial(_chat_kept, bus, clock),
    )  # fmt: skip
    bus.subscribe(ChatSent, lambda sent: messaging.send(
        sent.company_id, sent.domain, sent.messages, sent.group_name
    ))  # fmt: skip
    switch = Switch(signalling, authenticator, registrar, calls, dialplan, mwi, watchers, messaging)
    inbound = Inbound(signalling, authenticator, switch, is_carrier=switch.is_carrier)
    return Core(
        bus, outbox, signalling, authenticator, location, persist, registrar, router, calls,
        directory, mwi, lines, watchers, trunk_registrations, switch, inbound, recordings,
        messaging,
    )  # fmt: skip


def _chat_kept(
    bus: Bus, clock: Callable[[], float], company_id: int, message: chat.Message
) -> None:
    """A chat message kept: a live event, when someone watches the company (U4)."""
    if bus.wants(company_id):
        bus.publish(ChatKept(company_id, message, clock()))


class ChatStore:
    """Chat messages in the database, for the switch (`calls.messaging.Store`)."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.store = store
        self.clock = clock

    def keep(self, company_id: int, sender: str, recipient: str, body: str) -> chat.Message:
        return chat.store_message(self.store, company_id, sender, recipient, body, self.clock())

    def keep_group(
        self, company_id: int, group_id: int, sender: str, body: str
    ) -> tuple[list[chat.Message], str]:
        copies = chat.store_group_message(
            self.store, company_id, group_id, sender, body, self.clock()
        )
        return copies, chat.group_of(self.store, company_id, group_id, sender).name

    def delivered(self, company_id: int, ids: list[int]) -> None:
        chat.mark_delivered(self.store, company_id, ids, self.clock())

    def waiting(self, company_id: int, recipient: str) -> tuple[list[chat.Message], dict[int, str]]:
        messages = chat.pending(self.store, company_id, recipient)
        ids = {m.group_id for m in messages if m.group_id is not None}
        return messages, chat.group_names(self.store, company_id, ids)


def _lines(
    bus: Bus,
    clock: Callable[[], float],
    calls: B2BUA,
    directory: Directory,
    lookup: users.SipUserCache,
    notifier: Signalling,
) -> tuple[Lines, LineWatchers]:
    """Line state (U10, U5) and the phones that watch colleagues' lines."""

    def user_name(company_id: int, extension: str) -> str | None:
        """A user's name (from the credential cache), or None for what is not a user."""
        company = directory.company(company_id)
        user = lookup(company.domain, extension) if company is not None else None
        return user.display_name if user is not None else None

    def diversion(company_id: int, extension: str) -> tuple[str, str] | None:
        company = directory.company(company_id)
        info = company.diversion(extension) if company is not None else None
        if company is None or info is None:
            return None
        return diversion_note(info, company.timezone, company.now()), diversion_activity(info)

    lines = Lines(
        bus, clock, user_name,
        snapshot=lambda company_id: running(calls.calls.values(), company_id, user_name),
        running=lambda call_id: call_id in calls.calls,
    )  # fmt: skip

    def orbit(company_id: int, extension: str) -> bool:
        company = directory.company(company_id)
        park = company.config.park if company is not None else None
        return park is not None and extension in park.orbit_numbers()

    watchers = LineWatchers(
        notifier, lines, clock=clock, users=user_name, diversion=diversion, orbit=orbit
    )
    bus.subscribe(
        DiversionChanged,
        lambda event: watchers.diversion_changed(event.company_id, event.extension),
    )
    return lines, watchers


def _srtp_policy(directory: Directory) -> Callable[[int, str | None], str]:
    """O2: a leg's SRTP policy from its company's description: `media.srtp` for a user's
    phone, the trunk's own `srtp` for a carrier (plain unless it says otherwise)."""

    def policy(company_id: int, trunk: str | None) -> str:
        company = directory.company(company_id)
        if company is None:
            return "off" if trunk is not None else "optional"
        config = company.config
        if trunk is None:
            return config.media.srtp
        described = config.trunks.get(trunk)
        return described.srtp if described is not None else "off"

    return policy


def _mwi_boxes(directory: Directory) -> Boxes:
    def boxes(company_id: int, extension: str, account: str) -> list[str] | None:
        """A user's lamp shows their own box and the shared boxes they listen to; a shared
        box's members may also watch that box alone."""
        company = directory.company(company_id)
        shared = company.config.voicemail if company is not None else {}
        listens = [name for name, box in shared.items() if extension in box.members]
        if account == extension:
            return [extension, *listens]
        return [account] if account in listens else None

    return boxes
