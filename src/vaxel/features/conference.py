"""Conference rooms by phone (A3): dial the room, give its PIN, talk with everyone in it.

A room of the description (`conferences:`) is dialled by its extension, or by
one of the company's numbers that leads to it. The switch answers; when the
room has a PIN or a moderator PIN, the caller is asked for one (ended with #,
three tries): the PIN joins as a participant, the moderator PIN as the room's
moderator, and a room with only a moderator PIN lets a caller who gives none
(just # or nothing) join as a participant. The caller's leg then goes to the
room instead of being bridged (`calls.api.Room`): each participant hears
everyone but themselves, whatever their phone's G.711 law, and a tone when
someone joins or leaves. A full (`max_participants`) or locked room is said
so, and the call ends.

Keys in the room:

    0   mute or unmute yourself                   (everyone)
    1   mute or unmute everyone else              (moderators)
    2   lock the room (nobody more joins), or open it again   (moderators)
    3   end the conference for everyone           (moderators)

A short prompt confirms each key to whoever pressed it. The same actions
are offered to the company's administrators through the API (`participants`,
`mute`, `kick`, `lock`, `end`), for rooms that are in use. The room is open
while someone is in it; its media room closes when the last one leaves.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from vaxel.calls.api import (
    Call,
    CallEvent,
    Cause,
    DigitsCollected,
    Dtmf,
    Ended,
    Leg,
    PlayFinished,
    Room,
)
from vaxel.features.context import Company, Feature
from vaxel.services.company_config import ConferenceConfig
from vaxel.services.voicemail import verify_pin

MAX_TRIES = 3  # wrong PINs before the call ends
FULL = Cause(486, "Busy Here (the conference is full)", "busy")
LOCKED = Cause(403, "Forbidden (the conference is locked)")

#: What each key does in a room, for the docs and for `Participant` actions.
KEYS = {
    "0": "mute or unmute yourself",
    "1": "mute or unmute everyone else (moderator)",
    "2": "lock or open the room (moderator)",
    "3": "end the conference for everyone (moderator)",
}


@dataclass(eq=False)
class Participant:
    """Someone in a room: their call and leg, and what the room knows of them."""

    id: str  # the room's own number for them (what the API names)
    call: Call
    leg: Leg
    feature: JoinConference
    moderator: bool
    joined_at: float
    muted: bool = False  # by a moderator, or by themselves


class ConferenceRoom:
    """A room in use: its media room, its participants, whether it is locked."""

    def __init__(self, company: Company, name: str, media: Room) -> None:
        self.company = company
        self.name = name
        self.media = media
        self.participants: list[Participant] = []
        self.locked = False
        self.others_muted = False  # the moderator's key 1 last muted everyone else
        self._ids = itertools.count(1)

    @property
    def config(self) -> ConferenceConfig | None:
        return self.company.config.conferences.get(self.name)

    def find(self, participant_id: str) -> Participant | None:
        return next((p for p in self.participants if p.id == participant_id), None)

    def join(self, call: Call, feature: JoinConference, moderator: bool) -> Participant | None:
        """Put the caller in the room; None when their leg cannot join (not G.711)."""
        if not self.media.join(call.caller):
            return None
        participant = Participant(
            str(next(self._ids)), call, call.caller, feature, moderator, call.switchboard.now()
        )
        self.participants.append(participant)
        if self.others_muted and not moderator:
            self.mute(participant, True)
        return participant

    def leave(self, participant: Participant) -> None:
        """The participant is gone (hung up, kicked, or the room ended)."""
        if participant not in self.participants:
            return
        self.participants.remove(participant)
        self.media.leave(participant.leg)
        if not self.participants:
            self.media.close()
            rooms = self.company.rooms()
            if rooms.get(self.name) is self:
                del rooms[self.name]

    def mute(self, participant: Participant, muted: bool) -> None:
        participant.muted = muted
        self.media.mute(participant.leg, muted)

    def mute_others(self, moderator: Participant) -> bool:
        """Key 1: mute everyone but the moderators, or unmute them; True when muted now."""
        self.others_muted = not self.others_muted
        for participant in self.participants:
            if not participant.moderator:
                self.mute(participant, self.others_muted)
        return self.others_muted

    def kick(self, participant: Participant) -> None:
        """The participant leaves the room and their call ends."""
        self.leave(participant)
        participant.call.hangup()

    def end(self) -> None:
        """Everyone hears that the conference has ended, then their calls end."""
        self.locked = True  # nobody joins a room that is ending
        for participant in list(self.participants):
            self.leave(participant)
            participant.feature.ended_by_room(participant.call)


def open_room(company: Company, name: str, call: Call) -> ConferenceRoom:
    """The company's room `name` in use, opened (on the switch's media) if nobody is in it."""
    rooms = company.rooms()
    room = rooms.get(name)
    if not isinstance(room, ConferenceRoom):
        room = ConferenceRoom(company, name, call.switchboard.open_room())
        rooms[name] = room
    return room


def room_by_extension(company: Company, extension: str) -> str | None:
    """The name of the company's room dialled by `extension`, if one is."""
    for name, room in company.config.conferences.items():
        if room.extension == extension:
            return name
    return None


class JoinConference(Feature):
    """One caller into a room: PIN, then the room, then the keys of the room."""

    def __init__(self, company: Company, name: str) -> None:
        self.company = company
        self.name = name
        self.answerer = f"conference {name}"
        self.tries = 0
        self.state = "start"  # "pin", "joining", "in-room", "leaving"
        self.moderator = False
        self.participant: Participant | None = None
        self.room: ConferenceRoom | None = None

    def _prompt(self, name: str) -> Path:
        """A system prompt in the room's language (the company's, unless it sets one):
        the system prompts are kept as `folder/<language>/<name>.wav` (media.say)."""
        room = self.company.config.conferences.get(self.name)
        path = self.company.system(name)
        if room is None or room.language is None:
            return path
        return path.parent.parent / room.language / path.name

    def _say(self, call: Call, names: list[str], state: str) -> None:
        self.state = state
        call.caller.play([self._prompt(name) for name in names], interruptible=False)

    def start(self, call: Call) -> None:
        room = self.company.config.conferences.get(self.name)
        if room is None:  # removed from the description meanwhile
            call.caller.reject(Cause(404, "Not Found"))
            return
        call.caller.answer()
        if room.pin is None and room.moderator_pin is None:
            self._enter(call, moderator=False)
            return
        self._ask_pin(call, ["conf-enter-pin"])

    def _ask_pin(self, call: Call, names: list[str]) -> None:
        self.state = "pin"
        call.caller.collect(max_digits=8, timeout=15, inter_digit=5)
        call.caller.play([self._prompt(name) for name in names], interruptible=True)

    def _pin(self, call: Call, digits: str) -> None:
        room = self.company.config.conferences.get(self.name)
        if room is None:
            call.hangup()
            return
        if room.moderator_pin is not None and digits and verify_pin(room.moderator_pin, digits):
            self._enter(call, moderator=True)
        elif room.pin is None and not digits:
            self._enter(call, moderator=False)  # only the moderator needs a PIN
        elif room.pin is not None and digits and verify_pin(room.pin, digits):
            self._enter(call, moderator=False)
        else:
            self.tries += 1
            if self.tries >= MAX_TRIES:
                self._say(call, ["vm-wrong-pin", "goodbye"], "leaving")
            else:
                self._ask_pin(call, ["vm-wrong-pin", "conf-enter-pin"])

    def _enter(self, call: Call, *, moderator: bool) -> None:
        """Into the room, unless it is full or locked."""
        config = self.company.config.conferences.get(self.name)
        room = self.company.rooms().get(self.name)
        if config is not None and isinstance(room, ConferenceRoom):
            if room.locked:
                self._say(call, ["conf-locked", "goodbye"], "leaving")
                return
            if len(room.participants) >= config.max_participants:
                self._say(call, ["conf-full", "goodbye"], "leaving")
                return
        self.moderator = moderator
        self._say(call, ["conf-joining"], "joining")

    def _join(self, call: Call) -> None:
        config = self.company.config.conferences.get(self.name)
        room = open_room(self.company, self.name, call)
        # Checked again: others may have joined while this caller heard "joining".
        if config is None or room.locked or len(room.participants) >= config.max_participants:
            cause = LOCKED if room.locked or config is None else FULL
            if not room.participants:
                room.media.close()
                self.company.rooms().pop(self.name, None)
            call.hangup(cause)
            return
        participant = room.join(call, self, self.moderator)
        if participant is None:
            if not room.participants:
                room.media.close()
                self.company.rooms().pop(self.name, None)
            call.hangup(Cause(488, "Not Acceptable Here (the conference takes G.711 only)"))
            return
        self.room, self.participant = room, participant
        self.state = "in-room"

    def handle(self, call: Call, event: CallEvent) -> None:
        if isinstance(event, Ended):
            if self.room is not None and self.participant is not None:
                self.room.leave(self.participant)
            return
        if isinstance(event, DigitsCollected) and self.state == "pin":
            call.caller.stop_playing()
            self._pin(call, event.digits)
        elif isinstance(event, PlayFinished) and not event.interrupted:
            if self.state == "joining":
                self._join(call)
            elif self.state == "leaving":
                call.hangup()
        elif isinstance(event, Dtmf) and self.state == "in-room":
            self._key(call, event.digit)

    def _key(self, call: Call, digit: str) -> None:
        room, me = self.room, self.participant
        if room is None or me is None:
            return
        if digit == "0":
            room.mute(me, not me.muted)
            self._confirm(call, "conf-you-muted" if me.muted else "conf-you-unmuted")
        elif digit == "1" and me.moderator:
            muted = room.mute_others(me)
            self._confirm(call, "conf-others-muted" if muted else "conf-others-unmuted")
        elif digit == "2" and me.moderator:
            room.locked = not room.locked
            self._confirm(call, "conf-now-locked" if room.locked else "conf-now-open")
        elif digit == "3" and me.moderator:
            room.end()

    def _confirm(self, call: Call, name: str) -> None:
        """Played to the one who pressed the key, heard instead of the room meanwhile."""
        call.caller.play([self._prompt(name)], interruptible=False)

    def ended_by_room(self, call: Call) -> None:
        """The room ended (a moderator's key 3, or the API): say so, then end the call."""
        self.room, self.participant = None, None
        self._say(call, ["conf-ended"], "leaving")


# -- what the API asks of a room (through web/link.py) --------------------------------------

#: What `room_action` does: "participants", "mute" (a participant, `value`: muted or not),
#: "kick" (a participant), "lock" (`value`: locked or not), "end".
ACTIONS = ("participants", "mute", "kick", "lock", "end")

Outcome = tuple[str, object]  # ("ok", what is shown) or ("refused", (HTTP status, why))


def _shown(room: ConferenceRoom | None) -> dict[str, object]:
    if room is None:
        return {"locked": False, "participants": []}
    return {
        "locked": room.locked,
        "participants": [
            {
                "id": p.id,
                "party": p.leg.party,
                "name": p.leg.party_name,
                "moderator": p.moderator,
                "muted": p.muted,
                "joined_at": p.joined_at,
            }
            for p in room.participants
        ],
    }


def room_action(
    company: Company | None, name: str, action: str, participant: str = "", value: bool = True
) -> Outcome:
    """Do `action` (`ACTIONS`) to the company's room `name` for the API; the room as it is
    then, or why not. Plain data only: the answer crosses to the web's process."""
    if company is None or name not in company.config.conferences or action not in ACTIONS:
        return "refused", (404, f"no conference {name!r}")
    found = company.rooms().get(name)
    room = found if isinstance(found, ConferenceRoom) else None
    if action == "participants":
        return "ok", _shown(room)
    if room is None:
        return "refused", (409, f"nobody is in the conference {name!r} now")
    if action == "lock":
        room.locked = value
    elif action == "end":
        room.end()
    else:
        who = room.find(participant)
        if who is None:
            return "refused", (404, f"no participant {participant!r} in the conference")
        if action == "mute":
            room.mute(who, value)
        else:
            room.kick(who)
    return "ok", _shown(room)
