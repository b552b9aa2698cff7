"""Call recording by the company's rules and on demand (A6).

When a call is connected (each bridge: a transfer connects it again) the
company's `recording:` rule for it decides (`RecordingConfig.rule`: the user
answering or called, the user calling, the answering group, the number
dialled, the default). "always" starts the recording at once; unless the
company turned `announce` off, the caller first hears the system prompt
"call-recorded" while the callee hears silence, and the two hear each other
once it has been said. "on-demand" waits for a party to ask: `act` here (start, pause, resume, stop,
toggle), reached by the in-call code `*1` from a user's phone (the company's
`feature_codes.record`, features/in_call.py: toggles, so it starts, pauses,
resumes), a phone's record button (INFO with `Record: on` / `off`, as
Yealink phones send it) or the API. "never" refuses them. A paused recording
writes silence for its span.

A call has at most one file, in the company's folder,
`<data>/recordings/<domain>/<YYYY-MM-DD>/<call id>.wav` (the switch's own call
id, never a name from a user); a recording stopped and started again on the
same call goes on in a new file with `-2`, `-3` ... after the id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from vaxel.calls.api import Call, Leg
from vaxel.calls.legs import extension_of
from vaxel.features.groups import Group, _Ringing
from vaxel.media.call_recording import CallRecording, Pacer
from vaxel.media.player import Player, PromptError, load_prompt
from vaxel.services import recordings
from vaxel.services.company import Background
from vaxel.services.company_config import CompanyConfig, RecordingRule
from vaxel.services.recordings import NewRecording
from vaxel.sip.message import Request
from vaxel.store import Store

log = logging.getLogger(__name__)

FOLDER = "recordings"
Action = Literal["start", "pause", "resume", "stop", "toggle"]
ACTIONS: tuple[Action, ...] = ("start", "pause", "resume", "stop", "toggle")


class Companies(Protocol):
    """What recording needs of a company (`services.company.CompanyServices`)."""

    @property
    def domain(self) -> str: ...

    @property
    def config(self) -> CompanyConfig: ...

    def system(self, name: str) -> Path: ...


class Directory(Protocol):
    def company(self, company_id: int) -> Companies | None: ...


def recordings_folder(data: Path, domain: str) -> Path:
    """A company's recordings: `<data>/recordings/<domain>` (the domain as stored)."""
    return data / FOLDER / domain


def _group_of(call: Call) -> str | None:
    handler = call.handler
    if isinstance(handler, Group):
        return handler.name
    if isinstance(handler, _Ringing):
        return handler.group.name
    return None


def _nothing() -> None:
    pass


def _no_call(call_id: str) -> Call | None:
    return None


def _bridged(leg: Leg) -> bool:
    bridged = leg.call.bridged
    return bridged is not None and leg in bridged


def rule_of(call: Call, config: CompanyConfig) -> RecordingRule:
    """The company's recording rule for the call as it is bridged now."""
    users: list[str] = []
    bridged = call.bridged
    if bridged is not None and call.legs:
        caller = call.caller
        others = [leg for leg in bridged if leg is not caller]
        for leg in [*others, caller]:
            extension = extension_of(leg)
            if extension is not None:
                users.append(extension)
    return config.recording.rule(users, _group_of(call), call.dialled or None)


class Recordings:
    """Starts, pauses and stops calls' recordings; the B2BUA tells it of every bridge."""

    def __init__(
        self,
        directory: Directory,
        pacer: Pacer,
        data: Path,
        *,
        clock: Callable[[], float],
        find: Callable[[str], Call | None] = _no_call,
        store: Store | None = None,
        background: Background | None = None,
    ) -> None:
        self.directory = directory
        self.pacer = pacer
        self.data = data
        self.clock = clock
        self.find = find  # a running call by its id (the B2BUA's)
        self.store = store  # where a finished recording's row goes (None: nowhere)
        self.background = background

    # -- a party asks ------------------------------------------------------------------

    def info(self, leg: Leg, request: Request) -> bool:
        """A phone's record button (Yealink, and others after them): INFO with `Record: on`
        starts (or resumes) the recording, `Record: off` pauses it. Taken, not relayed;
        from a party who is not a user, or off a bridge, it changes nothing."""
        value = request.headers.get("Record")
        if value is None:
            return False
        value = value.strip().lower()
        if value in ("on", "off") and extension_of(leg) is not None and _bridged(leg):
            self.act(leg.call, "start" if value == "on" else "pause")
        return True

    def bridged(self, call: Call) -> None:
        """A call was connected: record it if the company's rule says "always"."""
        if call.recorder is not None:
            return
        company = self.directory.company(call.company_id)
        if company is None or rule_of(call, company.config) != "always":
            return
        if self._start(call, company) and company.config.recording.announce:
            self._announce(call, company)

    def act(self, call: Call, action: Action) -> str | None:
        """A party (or the API) asks: returns what the recording is now ("recording",
        "paused", "stopped"), or None when the company's rule does not let it."""
        company = self.directory.company(call.company_id)
        if company is None or call.bridged is None:
            return None
        recorder = call.recorder
        if not isinstance(recorder, CallRecording):
            recorder = None
        if action == "toggle":
            action = "start" if recorder is None else "resume" if recorder.paused else "pause"
        if action in ("start", "resume") and recorder is None:
            if rule_of(call, company.config) == "never":
                return None
            return "recording" if self._start(call, company) else None
        if recorder is None:
            return "stopped"
        if action == "pause":
            recorder.pause()
            return "paused"
        if action in ("start", "resume"):
            recorder.resume()
            return "recording"
        call.stop_recording_call()
        return "stopped"

    def control(
        self, company_id: int, extension: str | None, call_id: str, action: str
    ) -> tuple[int, str]:
        """The API asks (for a company's admin, or for the user `extension`, who must be
        on the call): (200, what the recording is now), or an HTTP status and why. A call
        of another company, or one the user is not on, is not found, as one that is not."""
        if action not in ACTIONS:
            return 422, f"action is one of {', '.join(ACTIONS)}"
        call = self.find(call_id)
        if call is None or call.company_id != company_id or not call.legs:
            return 404, "no such call"
        if extension is not None and extension not in {
            extension_of(leg) for leg in call.legs if not leg.ended
        }:
            return 404, "no such call"
        if call.bridged is None:
            return 409, "the call is not connected now"
        state = self.act(call, action)
        if state is None:
            return 403, "the company does not record this call"
        return 200, state

    def _start(self, call: Call, company: Companies) -> bool:
        folder = recordings_folder(self.data, company.domain)
        day = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%d")
        stereo = company.config.recording.format == "stereo"
        for n in range(1, 100):
            name = f"{call.id}.wav" if n == 1 else f"{call.id}-{n}.wav"
            try:
                recorder = CallRecording(
                    folder / day / name, self.pacer, stereo=stereo, closed=self._stored(call)
                )
            except FileExistsError:
                continue
            except OSError:
                log.exception("cannot record call %s", call.id)
                return False
            call.record_call(recorder)
            return True
        return False

    def _stored(self, call: Call) -> Callable[[CallRecording], None]:
        """What files the recording's row once it is complete (on the database thread)."""
        started = datetime.fromtimestamp(self.clock(), UTC)

        def closed(recording: CallRecording) -> None:
            store, background = self.store, self.background
            if store is None or background is None:
                return
            new = NewRecording(
                company_id=call.company_id,
                call_id=call.id,
                caller=call.caller.party if call.legs else "",
                callee=call.answered_by or call.dialled,
                started_at=started,
                duration_seconds=round(recording.seconds, 2),
                path=recording.path,
            )
            background.run(partial(recordings.add, store, new))

        return closed

    @staticmethod
    def _announce(call: Call, company: Companies) -> None:
        """The caller hears that the call is recorded; the callee hears silence as long,
        so the two are connected (hear each other) once it has been said."""
        prompt = company.system("call-recorded")
        try:
            length = len(load_prompt(prompt))
            call.caller.play([prompt], interruptible=False)
        except PromptError:
            log.warning("the system prompt call-recorded is missing")
            return
        bridged = call.bridged
        callee = (
            None
            if bridged is None
            else next((leg for leg in bridged if leg is not call.caller), None)
        )
        if callee is not None and callee.media is not None:
            callee.media.play(Player([np.zeros(length, np.int16)]), _nothing)
