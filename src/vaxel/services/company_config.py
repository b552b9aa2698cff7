"""One company described as data (S1-S6, S8, P6, U7, U8, U11): users, numbers, prompts,
call flows, menus, schedules, answering groups, voicemail boxes and trunks.

`vaxel config apply FILE.yaml` validates such a description whole and then
stores it; `vaxel config export DOMAIN` prints it back. The REST API uses
the same models. Every model forbids unknown keys, and cross-references
("menus.main.keys.3: unknown group 'salj'") are checked by `check_references`,
so a file with any error changes nothing.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from vaxel.calls.numbering import (
    CallerIdChoice,
    DeviceKind,
    NumberError,
    OutboundPolicy,
    to_e164,
)
from vaxel.features.schedules import Schedule
from vaxel.services.errors import Invalid
from vaxel.services.notify import SmsGateway

NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"  # keys of menus, groups, boxes, prompts, trunks
EXTENSION = r"^[0-9]{2,8}$"
KEYS = "0123456789*#"


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


_KINDS: dict[str, type[Model]]
_KINDS = {"user": ToUser, "group": ToGroup, "voicemail": ToVoicemail, "menu": ToMenu,
          "external": ToExternal, "flow": ToFlow}  # fmt: skip


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
    | Annotated[Literal["repeat"], Tag("repeat")]
    | Annotated[Literal["hangup"], Tag("hangup")],
    Discriminator(_kind),
]


# -- prompts ---------------------------------------------------------------------------


class Prompt(Model):
    """A company prompt: a file (uploaded, converted to 8 kHz) or text to speak."""

    file: str | None = None  # relative to the company's prompt folder
    text: str | None = None
    language: Literal["sv", "en"] = "sv"
    number: Annotated[int, Field(ge=1, le=999)] | None = None  # to record it by phone (*99)

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


class PersonalVoicemail(Model):
    enabled: bool = True
    pin: Annotated[str, Field(pattern=r"^[0-9]{4,8}$")] | None = None
    email: str | None = None
    sms: str | None = None  # a number told of new messages by SMS
    greeting: str | None = None  # a prompt name; default: the system greeting


class UserConfig(Model):
    ext: Annotated[str, Field(pattern=EXTENSION)]
    name: str
    password: str | None = None  # needed when the user is created; never exported
    ring_time: Annotated[int, Field(ge=5, le=300)] = 30
    mobile: str | None = None
    direct_number: str | None = None
    caller_id: CallerIdChoice = CallerIdChoice()
    admin: bool = False  # may record the company's prompts by phone
    voicemail: PersonalVoicemail = PersonalVoicemail()
    forwarding: Forwarding = Forwarding()

    @field_validator("mobile", "direct_number")
    @classmethod
    def _numbers(cls, value: str | None) -> str | None:
        return None if value is None else _e164(value)


# -- numbers, flows, menus ---------------------------------------------------------------


class NumberConfig(Model):
    """An inbound number: a main number opens a flow, a direct number rings a user."""

    number: str
    flow: str | None = None
    user: Annotated[str, Field(pattern=EXTENSION)] | None = None

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        return _e164(value)

    @model_validator(mode="after")
    def _one_target(self) -> NumberConfig:
        if (self.flow is None) == (self.user is None):
            raise ValueError("a number leads to either a flow or a user")
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


class QueueConfig(Model):
    music: str | None = None  # a prompt played in a loop; default: the system music
    announcement: str | None = None
    announce_every: Annotated[float, Field(ge=5, le=600)] = 30.0
    announce_position: bool = True  # "you are number 3 in the queue", on entry and with each
    max_wait: Annotated[float, Field(ge=5, le=3600)] = 120.0


class GroupConfig(Model):
    members: list[Annotated[str, Field(pattern=EXTENSION)]]  # in priority order
    strategy: Literal["sequential", "parallel"] = "parallel"
    ring_time: Annotated[int, Field(ge=5, le=300)] = 15  # per member (sequential), or in all
    busy_members: Literal["skip", "call-waiting"] = "skip"
    queue: QueueConfig | None = None
    overflow: Destination | None = None


class VoicemailBox(Model):
    """A shared box of the company; `members` are the users who listen to it."""

    members: list[Annotated[str, Field(pattern=EXTENSION)]] = []
    pin: Annotated[str, Field(pattern=r"^[0-9]{4,8}$")] | None = None
    greeting: str | None = None
    email: list[str] = []
    sms: list[str] = []  # numbers told of new messages by SMS
    max_seconds: Annotated[int, Field(ge=10, le=600)] = 120


class MailConfig(Model):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 25
    sender: str = "voicemail@localhost"


# -- trunks ------------------------------------------------------------------------------


class TrunkRegistration(Model):
    username: str
    password: str
    expires: Annotated[int, Field(ge=60, le=3600)] = 600


class TrunkConfig(Model):
    """A carrier's SIP peer, given by address (never resolved from a message)."""

    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 5060
    transport: Literal["udp", "tcp"] = "udp"
    domain: str | None = None  # the carrier's SIP domain, for To/From and digest realms
    registration: TrunkRegistration | None = None  # register with the carrier
    username: str | None = None  # digest answers for our INVITEs, when the carrier challenges
    password: str | None = None


# -- the company ---------------------------------------------------------------------------


class CompanySection(Model):
    domain: str
    name: str
    timezone: str = "Europe/Stockholm"
    language: Literal["sv", "en"] = "sv"


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
    """Validate a whole description (as loaded from YAML); raises ConfigError with every error."""
    try:
        config = CompanyConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_line(error) for error in exc.errors()]) from None
    errors = check_references(config)
    if errors:
        raise ConfigError(errors)
    return config


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
    for name, group in config.groups.items():
        where = f"groups.{name}"
        for i, member in enumerate(group.members):
            if member not in users:
                errors.append(f'{where}.members.{i}: unknown user "{member}"')
        if group.queue is not None:
            prompt(f"{where}.queue.music", group.queue.music)
            prompt(f"{where}.queue.announcement", group.queue.announcement)
        errors += _destination_errors(config, f"{where}.overflow", group.overflow)
    for name, box in config.voicemail.items():
        for i, member in enumerate(box.members):
            if member not in users:
                errors.append(f'voicemail.{name}.members.{i}: unknown user "{member}"')
        prompt(f"voicemail.{name}.greeting", box.greeting)
    for i, user in enumerate(config.users):
        prompt(f"users.{i}.voicemail.greeting", user.voicemail.greeting)
    if config.outbound_trunk is not None and config.outbound_trunk not in config.trunks:
        errors.append(f'outbound_trunk: unknown trunk "{config.outbound_trunk}"')
    return errors
