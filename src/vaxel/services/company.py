"""One company as its call flows see it (every feature ID that a call flow serves).

`CompanyServices` is the one implementation of `features.context.Company`:
the stored description, the company's prompt folder, its users' live
reachability (asked of the running switch through `Live`), the settings
users change from their phones (group logins, pauses: A5, forwarding, diversions: U9),
and its voicemail. Reads are quick and answered from what the directory
loaded; writes go to the database on the background writer (`Background`),
never on the loop that carries calls, and their effects are published on
the event bus once they are stored. Texts spoken for calls (a diverted
user's name) are made there too, once, and kept in the company's folder.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select

from vaxel.bus import (
    AgentPaused,
    BoxChanged,
    Bus,
    DiversionChanged,
    ForwardingChanged,
    GroupLogin,
    OrbitChanged,
    QueueChanged,
)
from vaxel.calls.api import Call, Line, Reach
from vaxel.media.player import PromptError
from vaxel.media.tts import Language, synthesize
from vaxel.services import (
    activities,
    audit,
    callback_request,
    callbacks,
    diversions,
    pauses,
    presence_settings,
    queue_stats,
    voicemail,
)
from vaxel.services.company_config import CompanyConfig, UserConfig
from vaxel.services.configuration import keep_recording
from vaxel.services.diversions import DiversionInfo
from vaxel.services.voicemail import Message, NewMessage
from vaxel.services.voicemail_delivery import deliver
from vaxel.store import Store
from vaxel.store.models import Forwarding, GroupLogout, VoicemailSwitch

log = logging.getLogger(__name__)

T = TypeVar("T")


class Live(Protocol):
    """What only the running switch knows: where users' phones are, who is in a call."""

    def reach(self, domain: str, extension: str) -> Reach: ...

    def in_call(self, company_id: int, extension: str) -> bool: ...

    def outbound_calls(self, company_id: int) -> int: ...

    def running(self, company_id: int) -> list[Call]: ...


class Background(Protocol):
    """Runs database work off the event loop, in order; `then` runs back on the loop."""

    def run(self, work: Callable[[], T], then: Callable[[T], None] | None = None) -> None: ...


@dataclass
class UserSettings:
    """What a company's users chose from their phones, as loaded with the description."""

    logged_out: set[tuple[str, str]] = field(default_factory=set)  # (group, extension)
    forwardings: dict[str, dict[str, str]] = field(default_factory=dict)  # ext -> kind -> target
    voicemail: dict[str, bool] = field(default_factory=dict)  # ext -> on/off
    diversions: dict[str, DiversionInfo] = field(default_factory=dict)  # ext -> (maybe ended)
    # ext -> status -> target: where calls go while a diversion of that status is on (U11)
    activities: dict[str, dict[str, str]] = field(default_factory=dict)
    pauses: dict[str, pauses.Pause] = field(default_factory=dict)  # A5: ext -> pause

    def update(self, loaded: UserSettings) -> None:
        """Take what was loaded again, in place: a queue's caller who waits since before
        the reload sees the logins and pauses of now (A5)."""
        for kept in fields(self):
            setattr(self, kept.name, getattr(loaded, kept.name))

    @classmethod
    def load_all(cls, store: Store) -> dict[int, UserSettings]:
        """Every company's settings, in six queries (a reload reads them all)."""
        found: dict[int, UserSettings] = {}
        for company_id, diverted in diversions.all_diversions(store).items():
            found.setdefault(company_id, cls()).diversions = diverted
        for company_id, chosen in activities.all_activity_forwardings(store).items():
            found.setdefault(company_id, cls()).activities = chosen
        for company_id, paused in pauses.all_pauses(store).items():
            found.setdefault(company_id, cls()).pauses = paused
        with store.session(read_only=True) as session:
            for company_id, group, ext in session.execute(
                select(GroupLogout.company_id, GroupLogout.group, GroupLogout.extension)
            ):
                found.setdefault(company_id, cls()).logged_out.add((group, ext))
            for company_id, ext, kind, target in session.execute(
                select(
                    Forwarding.company_id, Forwarding.extension, Forwarding.kind, Forwarding.target
                )
            ):
                forwardings = found.setdefault(company_id, cls()).forwardings
                forwardings.setdefault(ext, {})[kind] = target
            for company_id, ext, on in session.execute(
                select(
                    VoicemailSwitch.company_id, VoicemailSwitch.extension, VoicemailSwitch.enabled
                )
            ):
                found.setdefault(company_id, cls()).voicemail[ext] = on
        return found


SPEECH_FOLDER = "speech"  # in the company's prompt folder: texts spoken for calls
SPEECH_KEPT_DAYS = 90  # a spoken text not made again for this long is removed


@dataclass(frozen=True)
class Folders:
    prompts: Path  # the company's prompts, 8 kHz WAV named after the prompt
    system: Path  # the switch's own prompts: <folder>/<language>/<name>.wav
    voicemail: Path  # messages: <folder>/<company id>/<box>/<name>.wav


HANDLED_KEPT = 20  # A5: the handling times a group's average is taken over
ARRIVALS_KEPT = 5000  # A18: a group's latest arrivals (an hour of a busy queue)


class CompanyServices:
    """A company's services for its call flows (`features.context.Company`)."""

    def __init__(
        self,
        store: Store,
        company_id: int,
        domain: str,
        config: CompanyConfig,
        *,
        folders: Folders,
        settings: UserSettings,
        live: Live,
        background: Background,
        bus: Bus,
        clock: Callable[[], datetime],
        queues: dict[str, list[Any]],
        rooms: dict[str, Any] | None = None,
        handled: dict[str, deque[float]] | None = None,
        wrap_ups: dict[str, float] | None = None,
        arrivals: dict[str, deque[float]] | None = None,
        scheduled: dict[str, list[Any]] | None = None,
        histories: dict[str, Any] | None = None,
    ) -> None:
        self.store = store
        self._id = company_id
        self._domain = domain
        self._config = config
        self.folders = folders
        self.settings = settings
        self.live = live
        self.background = background
        self.bus = bus
        self.clock = clock
        self.queues = queues  # callers waiting in each queue (outlives a reload)
        self._rooms = {} if rooms is None else rooms  # conference rooms in use (A3), as queues
        # A5: each group's latest handling times, for its queue's estimated wait (as queues).
        self.handled: dict[str, deque[float]] = {} if handled is None else handled
        # A5: extension -> until when the agent is in wrap-up (switchboard time), as queues.
        self.wrap_ups: dict[str, float] = {} if wrap_ups is None else wrap_ups
        # A18: when calls came to each group (the last hour's), and the callbacks booked
        # for a time, by group (as queues).
        self.arrivals: dict[str, deque[float]] = {} if arrivals is None else arrivals
        self.scheduled: dict[str, list[Any]] = {} if scheduled is None else scheduled
        # S8, A5: each group's memory of its calls (features/distribution.py), as queues.
        self.histories: dict[str, Any] = {} if histories is None else histories
        self._users = {user.ext: user for user in config.users}
        self._timezone = ZoneInfo(config.company.timezone)

    @property
    def id(self) -> int:
        return self._id

    @property
    def domain(self) -> str:
        return self._domain

    @property
    def config(self) -> CompanyConfig:
        return self._config

    @property
    def language(self) -> Language:
        return self._config.company.language

    @property
    def timezone(self) -> ZoneInfo:
        return self._timezone

    def now(self) -> datetime:
        return self.clock()

    # -- prompts --------------------------------------------------------------------------

    def prompt(self, name: str) -> Path:
        return self.folders.prompts / f"{name}.wav"

    def system(self, name: str) -> Path:
        return self.folders.system / self.language / f"{name}.wav"

    def work_file(self, name: str) -> Path:
        self.folders.prompts.mkdir(parents=True, exist_ok=True)
        return self.folders.prompts / f"{name}.wav"

    def keep_prompt(self, name: str, recording: Path) -> None:
        keep_recording(self.folders.prompts, name, recording)

    def speech_path(self, text: str) -> Path:
        return speech_path(self.folders.prompts, self.language, text)

    def speech(self, texts: list[str], ready: Callable[[list[Path] | None], None]) -> None:
        paths = [self.speech_path(text) for text in texts]
        if all(path.exists() for path in paths):
            ready(paths)
            return
        language = self.language

        def speak() -> list[Path] | None:
            try:
                for text, path in zip(texts, paths, strict=True):
                    if not path.exists():
                        synthesize(text, language, path)
            except PromptError:
                log.exception("text to speech failed for a call of %s", self._domain)
                return None
            _prune(paths[0].parent, keep=set(paths))
            return paths

        self.background.run(speak, ready)

    # -- users ----------------------------------------------------------------------------

    def user(self, extension: str) -> UserConfig | None:
        return self._users.get(extension)

    def reach(self, extension: str) -> Reach:
        return self.live.reach(self._domain, extension)

    def busy(self, extension: str) -> bool:
        return self.live.in_call(self._id, extension)

    def logged_in(self, group: str, extension: str) -> bool:
        return (group, extension) not in self.settings.logged_out

    def set_logged_in(self, extension: str, on: bool, group: str | None = None) -> None:
        groups = [
            name
            for name, g in self._config.groups.items()
            if extension in g.members and group in (None, name)
        ]
        company_id, bus = self._id, self.bus

        def logged(group: str) -> None:
            bus.publish(GroupLogin(company_id, group, extension, on, time.time()))
            if on:  # stored: seen at once, and the queue's first caller offered now
                self.settings.logged_out.discard((group, extension))
                self.agent_available(extension)

        for group in groups:
            self.background.run(
                partial(self._log_in, group, extension, on),
                lambda _, group=group: logged(group),  # type: ignore[misc]
            )

    def paused(self, extension: str) -> str | None:
        found = self.settings.pauses.get(extension)
        return None if found is None else found.reason

    def set_paused(self, extension: str, reason: str | None) -> None:
        store, company_id, now = self.store, self._id, self.clock()

        def work() -> bool:
            if reason is None:
                changed = pauses.clear_pause(store, company_id, extension)
                if changed:
                    self._audit(extension, "agent.unpause", None)
                return changed
            pauses.set_pause(store, company_id, extension, reason, now)
            self._audit(extension, "agent.pause", {"reason": reason})
            return True

        def told(changed: bool) -> None:
            if changed:
                self.bus.publish(AgentPaused(company_id, extension, reason, time.time()))
            if changed and reason is None:  # back: seen at once, the queues' callers offered
                self.settings.pauses.pop(extension, None)
                self.agent_available(extension)

        self.background.run(work, told)

    def forwarding(self, extension: str) -> dict[str, str]:
        user = self._users.get(extension)
        described = user.forwarding.model_dump(exclude_none=True) if user is not None else {}
        merged = {**described, **self.settings.forwardings.get(extension, {})}
        return {kind: target for kind, target in merged.items() if target}

    def set_forwarding(self, extension: str, kind: str, target: str | None) -> None:
        store, company_id = self.store, self._id

        def work() -> None:
            presence_settings.set_forwarding(store, company_id, extension, kind, target)
            self._audit(extension, "forwarding.set", {"kind": kind, "to": target})

        self.background.run(
            work,
            lambda _: self.bus.publish(
                ForwardingChanged(company_id, extension, kind, target or None, time.time())
            ),
        )

    def diversion(self, extension: str) -> DiversionInfo | None:
        found = self.settings.diversions.get(extension)
        if found is None or (found.until is not None and found.until <= self.clock()):
            return None
        return found

    def set_diversion(self, extension: str, status: str, until: datetime | None) -> None:
        store, company_id, now = self.store, self._id, self.clock()

        def work() -> DiversionInfo:
            info = diversions.set_diversion(
                store, company_id, extension, status=status, until=until, now=now
            )
            until_text = until.isoformat() if until is not None else None
            self._audit(extension, "diversion.set", {"status": status, "until": until_text})
            return info

        self.background.run(
            work, lambda info: self.bus.publish(diversion_changed(company_id, extension, info))
        )

    def clear_diversion(self, extension: str) -> None:
        store, company_id = self.store, self._id

        def work() -> None:
            diversions.clear_diversion(store, company_id, extension)
            self._audit(extension, "diversion.clear", None)

        self.background.run(
            work, lambda _: self.bus.publish(diversion_changed(company_id, extension, None))
        )

    def activity_forwarding(self, extension: str) -> dict[str, str]:
        return self.settings.activities.get(extension, {})

    # -- voicemail ------------------------------------------------------------------------

    def voicemail_enabled(self, extension: str) -> bool:
        chosen = self.settings.voicemail.get(extension)
        if chosen is not None:
            return chosen
        user = self._users.get(extension)
        return user is not None and user.voicemail.enabled

    def set_voicemail(self, extension: str, on: bool) -> None:
        store, company_id = self.store, self._id

        def work() -> None:
            presence_settings.set_voicemail(store, company_id, extension, on)
            self._audit(extension, "voicemail.on" if on else "voicemail.off", None)

        self.background.run(work)

    def _log_in(self, group: str, extension: str, on: bool) -> None:
        presence_settings.set_logged_in(self.store, self._id, group, extension, on)
        self._audit(extension, "group.login" if on else "group.logout", {"group": group})

    def _audit(self, extension: str, action: str, after: object) -> None:
        """A user's change from their phone (a feature code) in the audit log, as the web's
        are: who (the user), from where (their phone), what. On the database thread."""
        audit.record(
            self.store, company_id=self._id, actor=f"{extension}@{self._domain}",
            source="phone", action=action, target=extension, after=after,
            now=datetime.now(UTC),
        )  # fmt: skip

    def greeting_path(self, box: str) -> Path:
        return self.folders.prompts / f"greeting-{box}.wav"

    def save_greeting(self, box: str, recording: Path) -> None:
        recording.replace(self.greeting_path(box))

    def box_full(self, box: str) -> bool:
        return voicemail.box_full(self.store, self._id, box, self._config)

    def new_message_path(self, box: str) -> Path:
        return voicemail.new_path(self.folders.voicemail, self._id, box)

    def save_message(self, message: NewMessage, saved: Callable[[bool], None]) -> None:
        store, company_id, config = self.store, self._id, self._config

        def store_it() -> bool:
            try:
                deliver(store, company_id, config, message)
            except Exception:
                log.exception("voicemail for %s could not be stored", message.box)
                return False
            return True

        def stored(ok: bool) -> None:
            if ok:
                self.bus.publish(self.box_changed(message.box))
            saved(ok)

        self.background.run(store_it, stored)

    def box_changed(self, box: str) -> BoxChanged:
        return box_changed(self._id, self._config, box)

    def messages(self, box: str) -> list[Message]:
        return voicemail.list_messages(self.store, self._id, box)

    def mark_heard(self, box: str, message_id: int, heard: bool) -> None:
        store, company_id = self.store, self._id
        self.background.run(
            lambda: voicemail.mark_heard(store, company_id, message_id, heard),
            lambda _: self.bus.publish(self.box_changed(box)),
        )

    def delete_message(self, box: str, message_id: int) -> None:
        store, company_id = self.store, self._id
        self.background.run(
            lambda: voicemail.delete_message(store, company_id, message_id),
            lambda _: self.bus.publish(self.box_changed(box)),
        )

    # -- calls out and queues ----------------------------------------------------------------

    def outbound_calls(self) -> int:
        return self.live.outbound_calls(self._id)

    def calls(self) -> list[Call]:
        return self.live.running(self._id)

    def trunk_line(self, number: str, caller_id: str | None) -> Line | None:
        config = self._config
        name = config.outbound_trunk or next(iter(config.trunks), None)
        if name is None:
            return None
        main = next((n.number for n in config.numbers if n.flow is not None), None)
        return Line(self._id, name, number, caller_id or main)

    def queue_visit(self, visit: queue_stats.NewQueueVisit) -> None:
        self.background.run(partial(queue_stats.write_visit, self.store, visit))

    def callback_requested(self, request: callback_request.CallbackRequest) -> None:
        self.background.run(partial(callback_request.deliver, self._config, request))

    def callback_changed(self, change: callbacks.CallbackChange) -> None:
        self.background.run(partial(callbacks.write_change, self.store, change))

    def queue_changed(self, name: str, call: Call, joined: bool, waiting: int) -> None:
        if not self.bus.wants(self._id):  # A11: built only for someone watching
            return
        caller = call.caller
        self.bus.publish(QueueChanged(
            self._id, name, call.id, caller.party, caller.party_name, joined, waiting,
            time.time(),
        ))  # fmt: skip

    def orbit_changed(self, orbit: str, call: Call, parked: bool) -> None:
        caller = call.caller
        self.bus.publish(OrbitChanged(
            self._id, orbit, call.id, caller.party, caller.party_name, parked,
        ))  # fmt: skip

    def queue(self, name: str) -> list[Any]:
        return self.queues.setdefault(name, [])

    def queue_arrival(self, name: str, at: float) -> None:
        arrivals = self.arrivals.get(name)
        if arrivals is None:
            arrivals = self.arrivals[name] = deque(maxlen=ARRIVALS_KEPT)
        arrivals.append(at)

    def queue_arrivals(self, name: str, since: float) -> int:
        return sum(1 for at in self.arrivals.get(name, ()) if at >= since)

    def scheduled_callbacks(self, name: str) -> list[Any]:
        return self.scheduled.setdefault(name, [])

    def queue_handled(self, name: str, seconds: float) -> None:
        handled = self.handled.get(name)
        if handled is None:
            handled = self.handled[name] = deque(maxlen=HANDLED_KEPT)
        handled.append(seconds)

    def queue_handling_time(self, name: str) -> float | None:
        handled = self.handled.get(name)
        return sum(handled) / len(handled) if handled else None

    def wrap_up_until(self, extension: str) -> float | None:
        return self.wrap_ups.get(extension)

    def agent_available(self, extension: str) -> None:
        for name, group in self._config.groups.items():
            line = self.queues.get(name)
            if group.queue is None or extension not in group.members or not line:
                continue
            line[:] = [entry for entry in line if entry.present()]
            if line:
                line[0].turn()

    def set_wrap_up(self, extension: str, until: float | None) -> None:
        if until is None:
            ended = self.wrap_ups.pop(extension, None) is not None
            if ended:  # ended early (*48, the API): ready now
                self.agent_available(extension)
        else:
            self.wrap_ups[extension] = until

    def group_histories(self) -> dict[str, Any]:
        return self.histories

    def rooms(self) -> dict[str, Any]:
        return self._rooms


def diversion_changed(
    company_id: int, extension: str, info: DiversionInfo | None
) -> DiversionChanged:
    """The bus's word for a diversion set (`info`) or cleared (None), U9."""
    if info is None:
        return DiversionChanged(company_id, extension, None, "", None, time.time())
    until = info.until.timestamp() if info.until is not None else None
    return DiversionChanged(
        company_id, extension, info.status, info.text, until, time.time(), info.scope
    )


def box_changed(company_id: int, config: CompanyConfig, box: str) -> BoxChanged:
    """The bus's word for a change in `box`: a shared box names its members (who may see it
    live), a user's own box is named by their extension."""
    shared = config.voicemail.get(box)
    if shared is None:
        return BoxChanged(company_id, box)
    return BoxChanged(company_id, box, shared=True, members=tuple(shared.members))


def speech_path(prompts: Path, language: Language, text: str) -> Path:
    """Where `text` spoken in `language` is kept in a company's prompt folder: named by a
    hash of the language and the text, never by the text itself, so the same text is one
    file and no text can name a path."""
    key = hashlib.sha256(f"{language}\0{text}".encode()).hexdigest()[:32]
    return prompts / SPEECH_FOLDER / f"{key}.wav"


def _prune(folder: Path, keep: set[Path]) -> None:
    """Remove spoken texts not made for `SPEECH_KEPT_DAYS` (one still in use is made again
    when next needed)."""
    oldest = time.time() - SPEECH_KEPT_DAYS * 86400
    for path in folder.glob("*.wav"):
        try:
            if path not in keep and path.stat().st_mtime < oldest:
                path.unlink()
        except OSError:
            continue
