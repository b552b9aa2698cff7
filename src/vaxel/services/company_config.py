"""One company described as data (P7, S1, S3, S5, S6, S8, U7, U8, U9, U11, P6, A3, P4):
users, numbers, prompts, call flows, menus, schedules, answering groups, voicemail boxes, trunks,
the operator, conference rooms, call park.

`vaxel config apply FILE.yaml` validates such a description whole and then
stores it; `vaxel config export DOMAIN` prints it back. The REST API uses
the same models. Every model forbids unknown keys, and cross-references
("menus.main.keys.3: unknown group 'salj'") are checked by `check_references`,
so a file with any error changes nothing.

Three more checks keep a description safe (O2):

- loops: destinations that lead to each other without the caller doing anything
  (a flow, a group's overflow, a menu's default, a closed destination, a forwarding
  out to the company's own number ...) are refused with the loop's path
  (services/config_loops.py, which also has the call-time guard `MAX_STEPS`);
- a prompt's `file` is a plain file name in the company's folder (no path);
- secrets (`SECRETS`: voicemail and conference PINs, trunk and mail passwords, the SMS
  gateway's headers) never appear in
  a repr, and `strip_secrets` takes them out of an export. A description that
  leaves a secret out keeps the stored one (services/configuration.py), so a
  stored description is validated with `STORED` as context: its PINs are hashes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from vaxel.services.errors import Invalid
from vaxel.services.notify import MailSettings, SmsGateway
from vaxel.services.numbering import (
    CallerIdChoice,
    DeviceKind,
    NumberError,
    OutboundPolicy,
    caller_id,
    is_external,
    to_e164,
)
from vaxel.services.schedules import Schedule
from vaxel.services.users import DEFAULT_RING_SECONDS, MAX_RING_SECONDS, MIN_RING_SECONDS
from vaxel.services.voicemail import DEFAULT_QUOTA_MESSAGES, is_pin_hash

NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"  # keys of menus, groups, boxes, prompts, trunks
EXTENSION = r"^[0-9]{2,8}$"
KEYS = "0123456789*#"
PIN = re.compile(r"[0-9]{4,8}")

#: Context for validating a description as stored (PINs hashed, secrets all present).
STORED = {"stored": True}

#: Where a description keeps secrets: never in an export, never in a repr or a log.
SECRETS = (
    "users[].voicemail.pin",
    "trunks.*.password",
    "trunks.*.registration.password",
    "mail.password",
    "sms.headers",  # where an SMS gateway's key goes (e.g. Authorization)
    "conferences.*.pin",
    "conferences.*.moderator_pin",
)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _e164(value: str) -> str:
    try:
        return to_e164(value)
    except NumberError as exc:
        raise ValueError(str(exc)) from None


# -- destinations ----------------------------------------------------------------------


class ToUser(Model):
    user: Annotated[str, Field(pattern=EXTENSION)]


class ToGroup(Model):
    group: str


class ToVoicemail(Model):
    voicemail: str  # a shared box's name, or a user's extension (their personal box)


class ToMenu(Model):
    menu: str


class ToExternal(Model):
    external: str

    @field_validator("external")
    @classmethod
    def _number(cls, value: str) -> str:
        return _e164(value)


class ToFlow(Model):
    flow: str


class CallbackRequestConfig(Model):
    """A1: a menu key that takes the number to call back by DTMF: the caller's own,
    confirmed, or one keyed in. It goes on the callback list of `group` (a queue with
    `callback:`: called back at its turn, at the back of the line) and is sent by e-mail
    to `email` and by SMS to `sms` (at least one of the three)."""

    group: str | None = None
    email: list[str] = []
    sms: list[str] = []

    @model_validator(mode="after")
    def _somewhere(self) -> CallbackRequestConfig:
        if self.group is None and not self.email and not self.sms:
            raise ValueError("a callback request goes somewhere: give group, email or sms")
        return self


class ToCallback(Model):
    callback: CallbackRequestConfig


_KINDS: dict[str, type[Model]] = {
    "user": ToUser, "group": ToGroup, "voicemail": ToVoicemail, "menu": ToMenu,
    "external": ToExternal, "flow": ToFlow, "callback": ToCallback,
}  # fmt: skip


def _kind(value: Any) -> str | None:
    """Which destination a value is, by its one key ({"group": "sales"}), for clear errors."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return next((key for key in _KINDS if key in value), None)
    return next((key for key, model in _KINDS.items() if isinstance(value, model)), None)


Destination = Annotated[
    Annotated[ToUser, Tag("user")]
    | Annotated[ToGroup, Tag("group")]
    | Annotated[ToVoicemail, Tag("voicemail")]
    | Annotated[ToMenu, Tag("menu")]
    | Annotated[ToExternal, Tag("external")]
    | Annotated[ToFlow, Tag("flow")],
    Discriminator(_kind),
]
MenuAction = Annotated[
    Annotated[ToUser, Tag("user")]
    | Annotated[ToGroup, Tag("group")]
    | Annotated[ToVoicemail, Tag("voicemail")]
    | Annotated[ToMenu, Tag("menu")]
    | Annotated[ToExternal, Tag("external")]
    | Annotated[ToFlow, Tag("flow")]
    | Annotated[ToCallback, Tag("callback")]
    | Annotated[Literal["repeat"], Tag("repeat")]
    | Annotated[Literal["hangup"], Tag("hangup")],
    Discriminator(_kind),
]


# -- prompts ---------------------------------------------------------------------------


class Prompt(Model):
    """A company prompt: a file (uploaded, converted to 8 kHz) or text to speak."""

    file: str | None = None  # a file in the folder of the description (or of the upload)
    text: str | None = None
    language: Literal["sv", "en"] = "sv"
    number: Annotated[int, Field(ge=1, le=999)] | None = None  # to record it by phone (*99)

    @field_validator("file")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        """Only a file of the company's own folder: no path, so no way out of it."""
        if value is not None and (value in ("", ".", "..") or any(ch in value for ch in "/\\\x00")):
            raise ValueError(
                f"{value!r} is not a plain file name: give the name of a file in the"
                " folder of the description, without a path"
            )
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Prompt:
        if (self.file is None) == (self.text is None):
            raise ValueError("give either file or text")
        return self


# -- users -----------------------------------------------------------------------------


class Forwarding(Model):
    always: str | None = None
    busy: str | None = None
    no_answer: str | None = None


class Quota(Model):
    """How much a voicemail box keeps: a caller to a full box cannot leave a message."""

    messages: Annotated[int, Field(ge=1, le=10_000)] | None = DEFAULT_QUOTA_MESSAGES
    seconds: Annotated[int, Field(ge=60, le=360_000)] | None = None  # of all its messages


def _pin(value: str | None, info: ValidationInfo) -> str | None:
    """4 to 8 digits in a description; a stored description has the hash instead."""
    if value is None or PIN.fullmatch(value):
        return value
    if is_pin_hash(value) and (info.context or {}).get("stored"):
        return value
    raise ValueError("a PIN is 4 to 8 digits")


class PersonalVoicemail(Model):
    enabled: bool = True
    # A secret: left out of an export; left out of a description, the stored one is kept,
    # and `null` removes it. Stored as a hash (services.voicemail.hash_pin).
    pin: str | None = Field(default=None, repr=False)
    email: str | None = None
    sms: str | None = None  # a number told of new messages by SMS
    greeting: str | None = None  # a prompt name; default: the system greeting
    quota: Quota = Quota()

    _check_pin = field_validator("pin")(_pin)


RingTime = Annotated[int, Field(ge=MIN_RING_SECONDS, le=MAX_RING_SECONDS)]


class MobileRinging(Model):
    """U2, U6: the user's `mobile` rings with their phones, through the company's trunk,
    showing who calls. With `confirm` the mobile's user presses 1 to take the call, so
    the mobile's own voicemail (which answers like a person) never takes it."""

    confirm: bool = True


class UserConfig(Model):
    ext: Annotated[str, Field(pattern=EXTENSION)]
    name: str
    password: str | None = None  # needed when the user is created; never exported
    ring_time: Annotated[int, Field(ge=MIN_RING_SECONDS, le=MAX_RING_SECONDS)] = (
        DEFAULT_RING_SECONDS
    )
    mobile: str | None = None
    direct_number: str | None = None
    caller_id: CallerIdChoice = CallerIdChoice()
    admin: bool = False  # may record the company's prompts by phone
    voicemail: PersonalVoicemail = PersonalVoicemail()
    forwarding: Forwarding = Forwarding()
    # U12 call waiting: a call to the user while they are in a call rings their phones too
    # (the phone plays its waiting tone); off: the caller gets busy (busy forwarding,
    # voicemail).
    call_waiting: bool = True
    # U2, U6: the mobile rings as one of the user's phones (a user with no other phone
    # keeps extension, groups, line state and voicemail all the same).
    mobile_rings: MobileRinging | None = None
    # A5: the agent's own wrap-up after a group's call, in seconds; set, it wins over the
    # queue's (None: the queue's).
    wrap_up: Annotated[float, Field(ge=0, le=3600)] | None = None

    @model_validator(mode="after")
    def _mobile_to_ring(self) -> UserConfig:
        if self.mobile_rings is not None and self.mobile is None:
            raise ValueError("mobile_rings needs the user's mobile number (mobile)")
        return self

    @field_validator("mobile", "direct_number")
    @classmethod
    def _numbers(cls, value: str | None) -> str | None:
        return None if value is None else _e164(value)


# -- numbers, flows, menus ---------------------------------------------------------------


class NumberConfig(Model):
    """An inbound number: a main number opens a flow, a direct number rings a user, a
    conference number leads into a conference room (A3)."""

    number: str
    flow: str | None = None
    user: Annotated[str, Field(pattern=EXTENSION)] | None = None
    conference: str | None = None

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        return _e164(value)

    @model_validator(mode="after")
    def _one_target(self) -> NumberConfig:
        if [self.flow, self.user, self.conference].count(None) != 2:
            raise ValueError("a number leads to one of a flow, a user or a conference")
        return self


class Closed(Model):
    prompt: str | None = None
    destination: Destination | None = None  # None: the caller hears the prompt, then goodbye


class FlowConfig(Model):
    """A main number's call flow: schedule check -> welcome -> menu (or straight on)."""

    schedule: str | None = None
    welcome: str | None = None
    menu: str | None = None
    destination: Destination | None = None  # when there is no menu
    closed: Closed = Closed()

    @model_validator(mode="after")
    def _goes_somewhere(self) -> FlowConfig:
        if self.menu is None and self.destination is None:
            raise ValueError("a flow needs a menu or a destination")
        return self


class MenuConfig(Model):
    prompt: str
    keys: dict[str, MenuAction]
    timeout: Annotated[float, Field(gt=0, le=60)] = 5.0
    retries: Annotated[int, Field(ge=0, le=5)] = 2
    invalid_prompt: str | None = None
    timeout_prompt: str | None = None
    default: MenuAction = "hangup"

    @field_validator("keys")
    @classmethod
    def _keys(cls, keys: dict[str, MenuAction]) -> dict[str, MenuAction]:
        for key in keys:
            if len(key) != 1 or key not in KEYS:
                raise ValueError(f"unknown key {key!r}: use one of {KEYS}")
        return keys


# -- groups and voicemail ------------------------------------------------------------------


class CallbackConfig(Model):
    """A1, A5: a caller waiting in the queue presses `key`, confirms the number to call
    back (their own, or one keyed in) and hangs up, keeping their place. At their turn a
    member is rung first; once they answer, the caller is called back and hears
    `greeting` (default: the system's "this is the callback you asked for") before the
    two talk. Nobody answering is tried again `retry_after` seconds later, `attempts`
    times in all, then reported.

    A18: with `slots` the caller may instead choose a time: the first `slots` slots of
    `slot_minutes` within the `schedule`'s open hours (a schedule of the company; none:
    any hour) that the queue can keep at `service_level` answered within `answer_within`
    seconds by Erlang C (services/erlang.py), over the live arrivals of the last hour, the
    group's handling time and the members logged in. At its time the callback goes first
    in line."""

    key: Annotated[str, Field(pattern=r"^[0-9*]$")] = "2"
    attempts: Annotated[int, Field(ge=1, le=10)] = 3
    retry_after: Annotated[float, Field(ge=10, le=86400)] = 120.0
    ring_time: Annotated[int, Field(ge=5, le=120)] = 30  # the caller's phone, per attempt
    greeting: str | None = None
    slots: Annotated[int, Field(ge=0, le=5)] = 0  # 0: no time to choose, only the place
    slot_minutes: Literal[15, 30, 60] = 30
    schedule: str | None = None
    service_level: Annotated[float, Field(ge=0.5, le=0.99)] = 0.8
    answer_within: Annotated[float, Field(ge=5, le=600)] = 20.0


class QueueConfig(Model):
    music: str | None = None  # a prompt played in a loop; default: the system music
    announcement: str | None = None
    announce_every: Annotated[float, Field(ge=5, le=600)] = 30.0
    announce_position: bool = True  # "you are number 3 in the queue", on entry and with each
    # "the estimated waiting time is 4 minutes" after the place (A5), from the group's own
    # handling times and the members logged in; said once a call of the group was handled.
    announce_wait: bool = True
    max_wait: Annotated[float, Field(ge=5, le=3600)] = 120.0
    # A5: after a call taken from the group ends, the member who took it is offered no
    # group call for this many seconds (wrap-up); 0: none. A user's own `wrap_up` wins.
    wrap_up: Annotated[float, Field(ge=0, le=3600)] = 0.0
    callback: CallbackConfig | None = None  # none: no callback offered
    # -- A7: who joins, who leaves, and where they go ---------------------------------
    # With no member logged in, a caller joins all the same (True) or goes straight to
    # the overflow (False).
    join_empty: bool = True
    # Callers waiting leave to the overflow once no member is logged in (the last one
    # logged out), seen at the queue's next try (within `groups.RETRY_PAUSE`; so a caller
    # who joined an empty queue leaves at their first try).
    leave_when_empty: bool = False
    # At most this many callers wait; one more goes to `full` (default: the overflow).
    max_length: Annotated[int, Field(ge=1, le=10_000)] | None = None
    full: Destination | None = None
    # A key the waiting caller presses to leave a message instead of waiting: the call
    # goes to `voicemail_to` (a shared box, or any destination).
    voicemail_key: Annotated[str, Field(min_length=1, max_length=1)] | None = None
    voicemail_to: Destination | None = None

    #: The settings that are keys a waiting caller presses (and `callback.key`): no two may
    #: be the same key.
    KEY_SETTINGS: ClassVar[tuple[str, ...]] = ("voicemail_key",)

    @model_validator(mode="after")
    def _keys(self) -> QueueConfig:
        taken: dict[str, str] = {}
        keys = [(name, getattr(self, name)) for name in self.KEY_SETTINGS]
        if self.callback is not None:
            keys.append(("callback.key", self.callback.key))
        for name, key in keys:
            if key is None:
                continue
            if key not in KEYS:
                raise ValueError(f"{name}: unknown key {key!r}: use one of {KEYS}")
            if key in taken:
                raise ValueError(f"{name}: key {key!r} is taken by {taken[key]}")
            taken[key] = name
        if self.voicemail_key is not None and self.voicemail_to is None:
            raise ValueError("voicemail_key needs voicemail_to: where the message is left")
        if self.full is not None and self.max_length is None:
            raise ValueError("full is where callers go beyond max_length: give max_length")
        return self


#: How a group offers a call to its members (S8, A5; features/distribution.py): all at
#: once, or one at a time in an order.
Strategy = Literal["ring-all", "fixed-order", "round-robin", "longest-idle", "fewest-calls"]
#: The older spellings, still accepted (a stored description has them): read as the new.
STRATEGY_ALIASES = {"parallel": "ring-all", "sequential": "fixed-order"}


#: A5: a group's login digits, dialled after the login or logout code.
LOGIN_CODE = r"^[0-9]{1,4}$"


class GroupConfig(Model):
    members: list[Annotated[str, Field(pattern=EXTENSION)]]  # in priority order
    strategy: Strategy = "ring-all"
    ring_time: Annotated[int, Field(ge=5, le=300)] = 15  # per member (one at a time), or in all
    busy_members: Literal["skip", "call-waiting"] = "skip"
    queue: QueueConfig | None = None
    overflow: Destination | None = None
    # A5 tiers: member -> tier (2, 3 ...; a member not named is in tier 1). A queue's
    # caller is offered to tier N only once they have waited `tier_delay` x (N - 1) s.
    tiers: dict[str, Annotated[int, Field(ge=1, le=9)]] = {}
    tier_delay: Annotated[float, Field(ge=0, le=3600)] = 30.0

    @field_validator("strategy", mode="before")
    @classmethod
    def _older_spelling(cls, value: Any) -> Any:
        return STRATEGY_ALIASES.get(value, value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _tiers(self) -> GroupConfig:
        for ext in self.tiers:
            if ext not in self.members:
                raise ValueError(f'tiers: "{ext}" is not one of the members')
        if any(tier > 1 for tier in self.tiers.values()) and self.queue is None:
            raise ValueError("tiers need a queue: callers wait there for the next tier")
        return self

    # A5: the digits that name this group after the login and logout codes (*45 + 1: log
    # in to this group only, *46 + 1: out of it); unique in the company.
    login_code: Annotated[str, Field(pattern=LOGIN_CODE)] | None = None


class VoicemailBox(Model):
    """A shared box of the company; `members` are the users who listen to it.

    It has no PIN of its own: members hear its messages in their own voicemail (*98),
    behind their own PIN.
    """

    members: list[Annotated[str, Field(pattern=EXTENSION)]] = []
    greeting: str | None = None
    email: list[str] = []
    sms: list[str] = []  # numbers told of new messages by SMS
    max_seconds: Annotated[int, Field(ge=10, le=600)] = 120  # of one message
    quota: Quota = Quota()

    @model_validator(mode="before")
    @classmethod
    def _no_pin(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and "pin" in data:
            if (info.context or {}).get("stored"):  # stored before it was refused
                return {key: value for key, value in data.items() if key != "pin"}
            raise ValueError(
                "a shared box has no PIN of its own: its members hear it in their own"
                " voicemail (*98), behind their own PIN; remove pin"
            )
        return data


class MailConfig(Model):
    """The outgoing mail server for voicemail e-mails (S6, U7)."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 25
    sender: str = "voicemail@localhost"
    starttls: bool = False  # upgrade to TLS (the server's certificate is verified) first
    username: str | None = None  # log in (AUTH) with these
    # A secret: left out of an export; left out of a description, the stored one is kept.
    password: str | None = Field(default=None, repr=False)

    @model_validator(mode="after")
    def _password_needs_user(self) -> MailConfig:
        if self.password is not None and self.username is None:
            raise ValueError("give the username that goes with the mail password")
        return self

    def settings(self) -> MailSettings:
        """What `notify.send_voicemail_mail` takes."""
        return MailSettings(
            host=self.host,
            port=self.port,
            sender=self.sender,
            starttls=self.starttls,
            username=self.username,
            password=self.password,  # type: ignore[arg-type]  # SecretStr takes a str
        )


# -- trunks ------------------------------------------------------------------------------


class TrunkRegistration(Model):
    username: str
    # A secret, kept as it is (a digest answer needs it in clear) but never exported or
    # shown in a repr. Left out of a description, the stored one is kept (same username);
    # a stored registration always has it.
    password: str | None = Field(default=None, repr=False)
    expires: Annotated[int, Field(ge=60, le=3600)] = 600


class TrunkConfig(Model):
    """A carrier's SIP peer, given by address (never resolved from a message).

    Over TLS (P2, O2) the switch connects to it itself and checks its certificate, for
    `domain` (else `host`), against the system's CAs or `ca_file` (PEM).
    """

    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 5060
    transport: Literal["udp", "tcp", "tls"] = "udp"
    ca_file: str | None = None  # TLS: the CAs the carrier's certificate is checked against
    domain: str | None = None  # the carrier's SIP domain, for To/From and digest realms
    registration: TrunkRegistration | None = None  # register with the carrier
    username: str | None = None  # digest answers for our INVITEs, when the carrier challenges
    password: str | None = Field(default=None, repr=False)  # a secret, as the registration's
    # O2: SRTP (SDES) with the carrier: "off" (plain RTP, an RTP/SAVP offer is refused),
    # "optional" (its RTP/SAVP offers answered with SRTP, ours plain), "required".
    srtp: SrtpPolicy = "off"

    @model_validator(mode="after")
    def _ca_file_for_tls(self) -> TrunkConfig:
        if self.ca_file is not None and self.transport != "tls":
            raise ValueError("ca_file is for transport: tls")
        return self


# -- conference rooms (A3) -------------------------------------------------------------

#: The most people one room holds (the mixer's cost grows with them: bench/conference.py).
MAX_PARTICIPANTS = 50


class ConferenceConfig(Model):
    """A conference room: dialled by its extension, or by a number of `numbers` that leads
    to it (`conference: NAME`).

    With a `pin`, a caller must give it to join; the `moderator_pin` joins as the room's
    moderator (who may mute others, lock the room and end it for all). Both are secrets,
    kept as hashes (services.voicemail.hash_pin), as voicemail PINs are.
    """

    extension: Annotated[str, Field(pattern=EXTENSION)] | None = None
    # Secrets: left out of an export; left out of a description, the stored one is kept,
    # and `null` removes it.
    pin: str | None = Field(default=None, repr=False)
    moderator_pin: str | None = Field(default=None, repr=False)
    max_participants: Annotated[int, Field(ge=2, le=MAX_PARTICIPANTS)] = 10
    language: Literal["sv", "en"] | None = None  # of its prompts; default: the company's

    _check_pins = field_validator("pin", "moderator_pin")(_pin)

    @model_validator(mode="after")
    def _pins_differ(self) -> ConferenceConfig:
        """The PIN a caller gives says who they are: one for both would say nothing."""
        if self.pin is not None and self.pin == self.moderator_pin:
            raise ValueError("pin and moderator_pin must differ")
        return self


def _conference_errors(config: CompanyConfig) -> list[str]:
    """A room is reachable, and its extension is nobody else's."""
    errors: list[str] = []
    taken = {user.ext: f"user {user.ext}" for user in config.users}
    numbered = {n.conference for n in config.numbers if n.conference is not None}
    for i, number in enumerate(config.numbers):
        if number.conference is not None and number.conference not in config.conferences:
            errors.append(f'numbers.{i}.conference: unknown conference "{number.conference}"')
    for name, room in config.conferences.items():
        if room.extension is None:
            if name not in numbered:
                errors.append(
                    f"conferences.{name}: give it an extension, or a number of numbers"
                    f" (conference: {name})"
                )
            continue
        if room.extension in taken:
            errors.append(
                f"conferences.{name}.extension: {room.extension} is {taken[room.extension]}'s"
            )
        taken[room.extension] = f"conference {name}"
    return errors


# -- call recording (A6) -------------------------------------------------------------------

RecordingRule = Literal["always", "on-demand", "never"]


class RecordingConfig(Model):
    """Which calls are recorded (A6): a rule per user, per answering group and per number
    dialled, the most specific one naming the call deciding (the user answering or called,
    then the user calling, then the group, then the number, then `default`). "always"
    records from the moment the call is connected; "on-demand" when a party asks (a key
    code, their phone's record button, the API); "never" not even then."""

    default: RecordingRule = "never"
    users: dict[Annotated[str, Field(pattern=EXTENSION)], RecordingRule] = {}
    groups: dict[str, RecordingRule] = {}
    numbers: dict[str, RecordingRule] = {}
    format: Literal["stereo", "mix"] = "stereo"  # stereo: the caller left, the other right
    # Recordings older than this are deleted; None: kept until deleted.
    retention_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    # A call recorded by rule starts with the system prompt "call-recorded", said to the
    # caller before the two hear each other (the callee hears silence meanwhile).
    announce: bool = True

    @field_validator("numbers")
    @classmethod
    def _numbers(cls, value: dict[str, RecordingRule]) -> dict[str, RecordingRule]:
        return {_e164(number): rule for number, rule in value.items()}

    def rule(self, users: list[str], group: str | None, number: str | None) -> RecordingRule:
        """The rule of a call: `users` on it (the answering or called one first)."""
        for extension in users:
            if extension in self.users:
                return self.users[extension]
        if group is not None and group in self.groups:
            return self.groups[group]
        if number is not None and number in self.numbers:
            return self.numbers[number]
        return self.default


# -- media (P5, O2) ---------------------------------------------------------------------

SrtpPolicy = Literal["off", "optional", "required"]


class MediaConfig(Model):
    """How the company's phones' media is carried (O2). `srtp`: "optional" (the default)
    answers a phone's RTP/SAVP offer with SRTP (SDES keys, RFC 4568) and plain RTP with
    plain RTP, and offers plain RTP to phones; "required" refuses a phone's plain offer
    with 488 and offers RTP/SAVP to phones; "off" refuses SRTP (488 to an RTP/SAVP-only
    offer). Trunks follow their own `srtp`, not this."""

    srtp: SrtpPolicy = "optional"


# -- the company ---------------------------------------------------------------------------


class CompanySection(Model):
    domain: str
    name: str
    timezone: str = "Europe/Stockholm"
    language: Literal["sv", "en"] = "sv"
    # The number users who choose caller ID "support" show on outbound calls (U8).
    support_number: str | None = None
    # Voicemail messages older than this are deleted, heard or not; None: kept until
    # deleted (each box's quota bounds them).
    voicemail_retention_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    # Where a caller who presses 0 goes, offered when a user's diversion is said (U9);
    # None: no operator, 0 is not offered.
    operator: Destination | None = None
    # Where a call a user transferred goes when the one it was transferred to is busy or
    # does not answer (P4): back to the user who transferred it, or to the voicemail of
    # the one it was transferred to (when they have it on).
    transfer_fallback: Literal["transferor", "voicemail"] = "transferor"

    @field_validator("domain", "name")
    @classmethod
    def _trimmed(cls, value: str, info: ValidationInfo) -> str:
        """As the companies table keeps them (apply checks them further)."""
        value = value.strip()
        return value.lower() if info.field_name == "domain" else value

    @field_validator("support_number")
    @classmethod
    def _number(cls, value: str | None) -> str | None:
        return None if value is None else _e164(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str, info: ValidationInfo) -> str:
        """The switch reads the company's clock in this zone (schedules without their
        own, the pages' times): an unknown one is refused here, not met by the switch."""
        if (info.context or {}).get("stored"):  # stored before it was refused
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (use e.g. 'Europe/Stockholm')") from None
        return value


# -- call park (P4) ------------------------------------------------------------------------


class ParkConfig(Model):
    """Call park (P4): a user transfers a call to `extension` (or dials it), the switch parks
    the caller in the first free orbit, numbered on from it (700: 701, 702 ...), and says
    which; anyone of the company dials the orbit to take the call. A call left there
    `timeout` seconds rings the user who parked it again (then their voicemail)."""

    extension: Annotated[str, Field(pattern=EXTENSION)] = "700"
    orbits: Annotated[int, Field(ge=1, le=99)] = 9
    timeout: Annotated[int, Field(ge=10, le=3600)] = 60

    def orbit_numbers(self) -> list[str]:
        first, width = int(self.extension), len(self.extension)
        return [str(first + i).zfill(width) for i in range(1, self.orbits + 1)]

    @model_validator(mode="after")
    def _same_width(self) -> ParkConfig:
        if len(self.orbit_numbers()[-1]) != len(self.extension):
            raise ValueError(
                f"the last orbit, {self.orbit_numbers()[-1]}, has more digits than the park "
                f"extension {self.extension}: fewer orbits, or another extension"
            )
        return self


def _park_errors(config: CompanyConfig) -> list[str]:
    """The park extension and its orbits are nobody's extension: no user's, no room's."""
    park = config.park
    if park is None:
        return []
    users = {user.ext for user in config.users}
    rooms = {room.extension: name for name, room in config.conferences.items()}
    errors = []
    for n in (park.extension, *park.orbit_numbers()):
        if n in users:
            errors.append(f'park: "{n}" is a user\'s extension')
        elif n in rooms:
            errors.append(f'park: "{n}" is the extension of conference room "{rooms[n]}"')
    return errors


# -- feature codes (S8, U7, U9, U11, P4, U12, A6) ----------------------------------------

#: What a feature code may be: `*` or `#` first (so that a dialled one is never taken
#: for a number), then up to five keys.
FEATURE_CODE = r"^[*#][0-9*#]{0,5}$"
#: The GSM codes a phone already knows (forwarding, *22 diversions: features/codes.py):
#: not the company's to change, so no code of its own may begin like one of them.
GSM_CODES = ("*21*", "#21#", "*67*", "#67#", "*61*", "#61#", "*22*", "#22#")


class FeatureCodes(Model):
    """The keys of a company's features, when its users know other ones (a company moving
    from another switch keeps its habits). Idle codes are dialled as a number; directed
    pickup is followed by the colleague's extension. In-call codes are pressed during a
    connected call; those that take a target are followed by it and `#` (or a pause).

    Each code starts with `*` or `#`. Idle codes may not begin one another (`*8` and
    `*80` could not be told apart), nor a GSM code; in-call codes likewise among
    themselves. The first key of an in-call code still reaches the other party (it may
    be a key for a menu there); the switch keeps the rest."""

    # dialled
    voicemail: Annotated[str, Field(pattern=FEATURE_CODE)] = "*98"
    record_prompt: Annotated[str, Field(pattern=FEATURE_CODE)] = "*99"
    group_login: Annotated[str, Field(pattern=FEATURE_CODE)] = "*45"
    group_logout: Annotated[str, Field(pattern=FEATURE_CODE)] = "*46"
    wrap_up_end: Annotated[str, Field(pattern=FEATURE_CODE)] = "*48"  # A5: end it early
    pause: Annotated[str, Field(pattern=FEATURE_CODE)] = "*47"  # A5: toggle; + N: reason N
    pickup: Annotated[str, Field(pattern=FEATURE_CODE)] = "*8"
    directed_pickup: Annotated[str, Field(pattern=FEATURE_CODE)] = "**"  # + extension
    # pressed during a call
    transfer: Annotated[str, Field(pattern=FEATURE_CODE)] = "##"  # + target + #
    attended_transfer: Annotated[str, Field(pattern=FEATURE_CODE)] = "*2"  # + target + #
    three_way: Annotated[str, Field(pattern=FEATURE_CODE)] = "*3"  # + target + #
    record: Annotated[str, Field(pattern=FEATURE_CODE)] = "*1"

    IDLE: ClassVar[tuple[str, ...]] = (
        "voicemail", "record_prompt", "group_login", "group_logout", "wrap_up_end",
        "pause", "pickup", "directed_pickup",
    )  # fmt: skip
    IN_CALL: ClassVar[tuple[str, ...]] = ("transfer", "attended_transfer", "three_way", "record")
    #: The in-call codes followed by a target.
    TARGETED: ClassVar[tuple[str, ...]] = ("transfer", "attended_transfer", "three_way")

    @model_validator(mode="after")
    def _told_apart(self) -> FeatureCodes:
        errors = _prefix_clashes({name: getattr(self, name) for name in self.IDLE}, GSM_CODES)
        errors += _prefix_clashes({name: getattr(self, name) for name in self.IN_CALL}, ())
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def in_call(self) -> dict[str, bool]:
        """The in-call codes, each with whether a target follows it."""
        return {getattr(self, name): name in self.TARGETED for name in self.IN_CALL}

    def in_call_name(self, code: str) -> str | None:
        """Which in-call feature `code` is (its field's name), if any."""
        return next((name for name in self.IN_CALL if getattr(self, name) == code), None)


def _prefix_clashes(codes: dict[str, str], fixed: tuple[str, ...]) -> list[str]:
    """Codes that begin another (or are the same): the switch could not tell them apart."""
    errors = []
    named = list(codes.items())
    for i, (name, code) in enumerate(named):
        for other, theirs in named[i + 1 :]:
            if code.startswith(theirs) or theirs.startswith(code):
                errors.append(f"{name} {code!r} and {other} {theirs!r} begin alike")
        for gsm in fixed:
            if code.startswith(gsm) or gsm.startswith(code):
                errors.append(f"{name} {code!r} begins like the GSM code {gsm!r}")
    return errors


# -- the wallboard (A11) ---------------------------------------------------------------------

#: What a wallboard threshold can watch, per queue: the first four alarm when high, the
#: others (`LOW_IS_BAD`) when low.
WALLBOARD_METRICS = (
    "waiting", "longest_wait", "average_wait", "missed", "service_level", "logged_in", "free",
)  # fmt: skip
LOW_IS_BAD = ("service_level", "logged_in", "free")
WallboardMetric = Literal[
    "waiting", "longest_wait", "average_wait", "missed", "service_level", "logged_in", "free"
]


class Threshold(Model):
    """When a figure turns amber and red: above these for a figure that is bad when high
    (a wait over 60 s), below them for one that is bad when low (fewer than 2 agents)."""

    amber: Annotated[float, Field(ge=0, le=100_000)] | None = None
    red: Annotated[float, Field(ge=0, le=100_000)] | None = None


#: The thresholds a wallboard has unless its description says otherwise.
DEFAULT_THRESHOLDS: dict[str, Threshold] = {
    "longest_wait": Threshold(amber=30, red=60),
    "logged_in": Threshold(red=2),
}


class WallboardConfig(Model):
    """The wallboard's look (A11): its theme, the queue groups it shows (none named: every
    one), the service level's seconds and the thresholds of its colour alarms. A metric
    named in `thresholds` replaces its default; `{}` turns its alarm off."""

    theme: Literal["dark", "light", "contrast"] = "dark"
    queues: list[str] = []
    service_level: Annotated[int, Field(ge=0, le=3600)] = 20
    thresholds: dict[WallboardMetric, Threshold] = {}

    @model_validator(mode="after")
    def _ordered(self) -> WallboardConfig:
        for metric, limit in self.thresholds.items():
            if limit.amber is None or limit.red is None:
                continue
            if metric in LOW_IS_BAD and limit.red > limit.amber:
                raise ValueError(f"thresholds.{metric}: red must be at most amber (low is bad)")
            if metric not in LOW_IS_BAD and limit.red < limit.amber:
                raise ValueError(f"thresholds.{metric}: red must be at least amber")
        return self

    def limits(self) -> dict[str, Threshold]:
        """The thresholds in force: the defaults, with the described ones over them."""
        chosen: dict[str, Threshold] = dict(DEFAULT_THRESHOLDS)
        for metric, limit in self.thresholds.items():
            chosen[metric] = limit
        return {m: t for m, t in chosen.items() if t.amber is not None or t.red is not None}


# -- the operator console (A16) ------------------------------------------------------------

#: What the console does, each with a key of its own.
CONSOLE_ACTIONS = ("answer", "transfer", "consult", "complete", "back", "park", "retrieve",
                   "search", "next", "previous")  # fmt: skip
ConsoleAction = Literal["answer", "transfer", "consult", "complete", "back", "park", "retrieve",
                        "search", "next", "previous"]  # fmt: skip
#: A key as the browser names it (KeyboardEvent.key), after optional modifiers:
#: "F2", "Ctrl+Shift+P", "Alt+1", "ArrowDown", "Escape".
SHORTCUT = (
    r"^((Ctrl|Alt|Shift|Meta)\+)*"
    r"(F([1-9]|1[0-2])|[A-Z0-9]|ArrowUp|ArrowDown|Enter|Escape|Delete|Insert|Home|End)$"
)
DEFAULT_SHORTCUTS: dict[str, str] = {
    "answer": "F2", "transfer": "F3", "consult": "F4", "complete": "F5", "back": "F6",
    "park": "F7", "retrieve": "F8", "search": "F9", "next": "ArrowDown", "previous": "ArrowUp",
}  # fmt: skip


class ConsoleConfig(Model):
    """The operator console (A16): who may use it besides the company's admins (users by
    extension), and its keyboard shortcuts (an action named replaces its default key)."""

    operators: list[Annotated[str, Field(pattern=EXTENSION)]] = []
    shortcuts: dict[ConsoleAction, Annotated[str, Field(pattern=SHORTCUT)]] = {}

    @model_validator(mode="after")
    def _distinct_keys(self) -> ConsoleConfig:
        taken: dict[str, str] = {}
        for action, key in self.keys().items():
            if key in taken:
                raise ValueError(f"shortcuts: {key} is both {taken[key]} and {action}")
            taken[key] = action
        return self

    def keys(self) -> dict[str, str]:
        """Every action's key: the described ones over the defaults."""
        chosen = dict(DEFAULT_SHORTCUTS)
        for action, key in self.shortcuts.items():
            chosen[action] = key
        return chosen


# -- agents' pauses (A5) -------------------------------------------------------------------

#: A pause reason: a preset's name or the company's own word ("kundbesök").
PauseReason = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^\w[\w .-]*$")]
#: The reasons a company has unless it names its own, each with its Swedish and English
#: words (what the web shows for it).
PAUSE_WORDS: dict[str, tuple[str, str]] = {
    "lunch": ("Lunch", "Lunch"),
    "break": ("Rast", "Break"),
    "admin": ("Administration", "Admin work"),
    "meeting": ("Möte", "Meeting"),
    "training": ("Utbildning", "Training"),
}
PAUSE_PRESETS = tuple(PAUSE_WORDS)


def pause_words(reason: str, language: str) -> str:
    """How a pause reason is shown: a preset's words in `language` (sv or en), a company's
    own reason as written."""
    words = PAUSE_WORDS.get(reason)
    if words is None:
        return reason
    return words[0] if language == "sv" else words[1]


class CompanyConfig(Model):
    company: CompanySection
    users: list[UserConfig] = []
    numbers: list[NumberConfig] = []
    prompts: dict[str, Prompt] = {}
    flows: dict[str, FlowConfig] = {}
    menus: dict[str, MenuConfig] = {}
    schedules: dict[str, Schedule] = {}
    groups: dict[str, GroupConfig] = {}
    voicemail: dict[str, VoicemailBox] = {}
    trunks: dict[str, TrunkConfig] = {}
    outbound_trunk: str | None = None
    outbound: OutboundPolicy = OutboundPolicy()
    mail: MailConfig | None = None
    sms: SmsGateway | None = None  # the provider's HTTP gateway for voicemail SMS
    # Which kind of device a call comes from, by words in its User-Agent (U8: a caller ID
    # per device, e.g. {mobile: ["Vaxel Mobile"], desk: ["Yealink", "snom"]}).
    devices: dict[DeviceKind, list[str]] = {}
    # A3: conference rooms, by name.
    conferences: dict[str, ConferenceConfig] = {}
    # P4 call park: off unless described (`park: {}` for 700, orbits 701-709, 60 s).
    park: ParkConfig | None = None
    recording: RecordingConfig = RecordingConfig()  # A6: which calls are recorded
    media: MediaConfig = MediaConfig()  # O2: SRTP for the company's phones
    # The keys of features, when the company's users know other ones (defaults: above).
    feature_codes: FeatureCodes = FeatureCodes()
    wallboard: WallboardConfig = WallboardConfig()  # A11: the wallboard's look and alarms
    console: ConsoleConfig = ConsoleConfig()  # A16: the operator console's users and keys

    # A5: why an agent may pause, in the order the pause code's digits name them (*47 + 1:
    # the first); a preset's name is shown in the user's language (`PAUSE_WORDS`).
    pause_reasons: Annotated[list[PauseReason], Field(min_length=1, max_length=20)] = list(
        PAUSE_PRESETS
    )

    @model_validator(mode="before")
    @classmethod
    def _queues(cls, data: Any) -> Any:
        """A5: `queues:` lists a description's ACD queues apart from its other groups. A
        queue is an answering group with a `queue:` section (its settings' defaults when
        left out), so each is read into `groups` (a name used in both is refused) and is
        reached, edited and exported as a group."""
        if not isinstance(data, dict) or "queues" not in data:
            return data
        queues, groups = data.get("queues") or {}, dict(data.get("groups") or {})
        if not isinstance(queues, dict) or not isinstance(groups, dict):
            raise ValueError("queues: a mapping of names to queues, as groups is")
        for name, queue in queues.items():
            if name in groups:
                raise ValueError(f"queues.{name}: a group of that name is described too")
            if isinstance(queue, dict):
                queue = {**queue, "queue": queue.get("queue") or {}}
            groups[name] = queue
        return {**{k: v for k, v in data.items() if k != "queues"}, "groups": groups}

    @field_validator("pause_reasons")
    @classmethod
    def _distinct_reasons(cls, reasons: list[str]) -> list[str]:
        if len(set(reasons)) != len(reasons):
            raise ValueError("a pause reason appears twice")
        return reasons

    @field_validator("conferences")
    @classmethod
    def _room_names(cls, items: dict[str, object]) -> dict[str, object]:
        for name in items:
            if not re.match(NAME, name):
                raise ValueError(f"bad name {name!r}: use a-z, 0-9, - and _ (max 40)")
        return items

    def device_kind(self, user_agent: str) -> DeviceKind | None:
        agent = user_agent.lower()
        for kind, words in self.devices.items():
            if any(word.lower() in agent for word in words):
                return kind
        return None

    @field_validator("prompts", "flows", "menus", "schedules", "groups", "voicemail", "trunks")
    @classmethod
    def _names(cls, items: dict[str, object]) -> dict[str, object]:
        for name in items:
            if not re.match(NAME, name):
                raise ValueError(f"bad name {name!r}: use a-z, 0-9, - and _ (max 40)")
        return items


class ConfigError(Invalid):
    """A company description with errors; `errors` has one line per problem, with its path."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def parse_config(data: object) -> CompanyConfig:
    """Validate a whole description (as loaded from YAML); raises ConfigError with every error.

    References are checked first, then loops (`config_loops.find_loops`) among what
    they name.
    """
    from vaxel.services.config_loops import find_loops  # it reads these models

    try:
        config = CompanyConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_line(error) for error in exc.errors()]) from None
    errors = check_references(config) or find_loops(config)
    if errors:
        raise ConfigError(errors)
    return config


def strip_secrets(data: dict[str, Any]) -> dict[str, Any]:
    """`data` (a dumped description) without the values named in `SECRETS`, in place."""
    for user in data.get("users") or []:
        (user.get("voicemail") or {}).pop("pin", None)
    for trunk in (data.get("trunks") or {}).values():
        trunk.pop("password", None)
        (trunk.get("registration") or {}).pop("password", None)
    (data.get("mail") or {}).pop("password", None)
    (data.get("sms") or {}).pop("headers", None)
    for room in (data.get("conferences") or {}).values():
        room.pop("pin", None)
        room.pop("moderator_pin", None)
    return data


def own_numbers(config: CompanyConfig, extension: str) -> dict[str, str]:
    """The numbers a user's calls may show (U8), by kind: main, direct, mobile, support
    (those the company and the user have)."""
    main = next((n.number for n in config.numbers if n.flow is not None), None)
    user = next((u for u in config.users if u.ext == extension), None)
    numbers = {
        "main": main,
        "direct": user.direct_number if user is not None else None,
        "mobile": user.mobile if user is not None else None,
        "support": config.company.support_number if user is not None else None,
    }
    return {kind: number for kind, number in numbers.items() if number}


def shown_caller_id(
    config: CompanyConfig, extension: str, user_agent: str, preferred: str = ""
) -> str | None:
    """The number a user's outbound call shows (U8): the one the device asked for on this
    call (`preferred`, RFC 3325 P-Preferred-Identity) when it is one of the user's own
    numbers, else their choice (per kind of device, by the User-Agent), else the company's
    main number; None if the company has neither. A preference for a number that is not
    theirs is ignored, as if none was given: nobody shows another's number."""
    main = next((n.number for n in config.numbers if n.flow is not None), None)
    user = next((u for u in config.users if u.ext == extension), None)
    if user is None:
        return main
    if preferred:
        try:
            wanted = to_e164(preferred)
        except NumberError:
            wanted = ""
        if wanted and wanted in own_numbers(config, extension).values():
            return wanted
    shown = caller_id(
        user.caller_id,
        main=main or "",
        direct=user.direct_number,
        mobile=user.mobile,
        support=config.company.support_number,
        device=config.device_kind(user_agent),
    )
    return shown or None


def _line(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "(top)"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}"


def _destination_errors(config: CompanyConfig, where: str, target: object) -> list[str]:
    users = {user.ext for user in config.users}
    if isinstance(target, ToUser) and target.user not in users:
        return [f'{where}: unknown user "{target.user}"']
    if isinstance(target, ToGroup) and target.group not in config.groups:
        return [f'{where}: unknown group "{target.group}"']
    if isinstance(target, ToMenu) and target.menu not in config.menus:
        return [f'{where}: unknown menu "{target.menu}"']
    if isinstance(target, ToFlow) and target.flow not in config.flows:
        return [f'{where}: unknown flow "{target.flow}"']
    if (
        isinstance(target, ToVoicemail)
        and target.voicemail not in config.voicemail
        and target.voicemail not in users
    ):
        return [f'{where}: unknown voicemail box "{target.voicemail}"']
    if isinstance(target, ToCallback) and target.callback.group is not None:
        group = config.groups.get(target.callback.group)
        if group is None:
            return [f'{where}.callback.group: unknown group "{target.callback.group}"']
        if group.queue is None or group.queue.callback is None:
            return [f"{where}.callback.group: {target.callback.group} has no queue.callback"]
    return []


def check_references(config: CompanyConfig) -> list[str]:
    """Every name used somewhere is defined; each error names where it is."""
    errors: list[str] = []
    users = {user.ext for user in config.users}
    seen: set[str] = set()
    for i, user in enumerate(config.users):
        if user.ext in seen:
            errors.append(f'users.{i}.ext: extension "{user.ext}" appears twice')
        seen.add(user.ext)

    def prompt(where: str, name: str | None) -> None:
        if name is not None and name not in config.prompts:
            errors.append(f'{where}: unknown prompt "{name}"')

    numbers: set[str] = set()
    for i, number in enumerate(config.numbers):
        if number.number in numbers:
            errors.append(f"numbers.{i}.number: {number.number} appears twice")
        numbers.add(number.number)
        if number.flow is not None and number.flow not in config.flows:
            errors.append(f'numbers.{i}.flow: unknown flow "{number.flow}"')
        if number.user is not None and number.user not in users:
            errors.append(f'numbers.{i}.user: unknown user "{number.user}"')
    for name, flow in config.flows.items():
        where = f"flows.{name}"
        if flow.schedule is not None and flow.schedule not in config.schedules:
            errors.append(f'{where}.schedule: unknown schedule "{flow.schedule}"')
        prompt(f"{where}.welcome", flow.welcome)
        prompt(f"{where}.closed.prompt", flow.closed.prompt)
        if flow.menu is not None and flow.menu not in config.menus:
            errors.append(f'{where}.menu: unknown menu "{flow.menu}"')
        errors += _destination_errors(config, f"{where}.destination", flow.destination)
        errors += _destination_errors(
            config, f"{where}.closed.destination", flow.closed.destination
        )
    for name, menu in config.menus.items():
        where = f"menus.{name}"
        prompt(f"{where}.prompt", menu.prompt)
        prompt(f"{where}.invalid_prompt", menu.invalid_prompt)
        prompt(f"{where}.timeout_prompt", menu.timeout_prompt)
        for key, action in menu.keys.items():
            errors += _destination_errors(config, f"{where}.keys.{key}", action)
        errors += _destination_errors(config, f"{where}.default", menu.default)
    login_codes: dict[str, str] = {}  # A5: login digits -> the group they name
    for name, group in config.groups.items():
        where = f"groups.{name}"
        for i, member in enumerate(group.members):
            if member not in users:
                errors.append(f'{where}.members.{i}: unknown user "{member}"')
        if group.queue is not None:
            prompt(f"{where}.queue.music", group.queue.music)
            prompt(f"{where}.queue.announcement", group.queue.announcement)
            callback = group.queue.callback
            if callback is not None:
                prompt(f"{where}.queue.callback.greeting", callback.greeting)
                if callback.schedule is not None and callback.schedule not in config.schedules:
                    errors.append(
                        f'{where}.queue.callback.schedule: unknown schedule "{callback.schedule}"'
                    )
            errors += _destination_errors(config, f"{where}.queue.full", group.queue.full)
            errors += _destination_errors(
                config, f"{where}.queue.voicemail_to", group.queue.voicemail_to
            )
        errors += _destination_errors(config, f"{where}.overflow", group.overflow)
        if group.login_code is not None:
            other = login_codes.setdefault(group.login_code, name)
            if other != name:
                errors.append(f'{where}.login_code: "{group.login_code}" is group {other}\'s too')
    for name, box in config.voicemail.items():
        for i, member in enumerate(box.members):
            if member not in users:
                errors.append(f'voicemail.{name}.members.{i}: unknown user "{member}"')
        prompt(f"voicemail.{name}.greeting", box.greeting)
    for i, user in enumerate(config.users):
        prompt(f"users.{i}.voicemail.greeting", user.voicemail.greeting)
        errors += _forwarding_errors(f"users.{i}.forwarding", user.forwarding, users)
        errors += _caller_id_errors(config, f"users.{i}.caller_id", user)
    errors += _destination_errors(config, "company.operator", config.company.operator)
    if config.outbound_trunk is not None and config.outbound_trunk not in config.trunks:
        errors.append(f'outbound_trunk: unknown trunk "{config.outbound_trunk}"')
    errors += _conference_errors(config)
    errors += _park_errors(config)
    errors += _recording_errors(config, users)
    errors += _wallboard_errors(config)
    errors += _console_errors(config, users)
    return errors


def _console_errors(config: CompanyConfig, users: set[str]) -> list[str]:
    """A16: the console's operators are users of the company."""
    return [
        f'console.operators.{i}: unknown user "{ext}"'
        for i, ext in enumerate(config.console.operators)
        if ext not in users
    ]


def _wallboard_errors(config: CompanyConfig) -> list[str]:
    """A11: the wallboard shows queue groups the company has."""
    errors = []
    for i, name in enumerate(config.wallboard.queues):
        group = config.groups.get(name)
        if group is None:
            errors.append(f'wallboard.queues.{i}: unknown group "{name}"')
        elif group.queue is None:
            errors.append(f'wallboard.queues.{i}: group "{name}" has no queue')
    return errors


def _recording_errors(config: CompanyConfig, users: set[str]) -> list[str]:
    """A6: a recording rule names a user, group and number the company has."""
    recording = config.recording
    numbers = {number.number for number in config.numbers}
    errors = [
        f'recording.users.{ext}: unknown user "{ext}"'
        for ext in recording.users
        if ext not in users
    ]
    errors += [
        f'recording.groups.{name}: unknown group "{name}"'
        for name in recording.groups
        if name not in config.groups
    ]
    errors += [
        f"recording.numbers.{number}: not one of the company's numbers"
        for number in recording.numbers
        if number not in numbers
    ]
    return errors


def _forwarding_errors(where: str, forwarding: Forwarding, users: set[str]) -> list[str]:
    errors = []
    for kind in ("always", "busy", "no_answer"):
        target = getattr(forwarding, kind)
        if target is None:
            continue
        try:
            external = is_external(target)
            if external:
                to_e164(target)
        except NumberError as exc:
            errors.append(f"{where}.{kind}: {exc}")
            continue
        if not external and target not in users:
            errors.append(f'{where}.{kind}: unknown user "{target}"')
    return errors


def _caller_id_errors(config: CompanyConfig, where: str, user: UserConfig) -> list[str]:
    """A caller ID choice whose number is not there would silently show the main number."""
    missing = {
        "support": (config.company.support_number, "the company has no support_number"),
        "direct": (user.direct_number, "the user has no direct_number"),
        "mobile": (user.mobile, "the user has no mobile"),
    }
    choices = [("show", user.caller_id.show)] + [
        (f"per_device.{device}", source) for device, source in user.caller_id.per_device.items()
    ]
    errors = []
    for path, source in choices:
        number, problem = missing.get(source, ("main", ""))
        if number is None:
            errors.append(f"{where}.{path}: {problem}")
    return errors
