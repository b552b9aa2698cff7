"""Numbers a user dials, what they cost, and the toll-fraud guard (P6, S1, U8).

Pure logic, no I/O. A dialled string becomes E.164 ("070-123 45 67" ->
"+46701234567") so that trunks, call records and policies see one spelling.
Emergency and public-safety short numbers (112, 114 14, 113 13, 1177) have
no E.164 form: `to_e164` hands them back as the bare short number, without a
"+", and the caller sends exactly that to the trunk. That missing "+" is the
marker (`is_short_number`); such a call is never refused.

The guard stops what toll fraud costs a company: premium-rate numbers are
refused unless a company allows them, and a ceiling on concurrent outbound
calls limits the damage of a stolen password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import phonenumbers
from phonenumbers import (
    NumberParseException,
    PhoneNumber,
    PhoneNumberType,
    ValidationResult,
    shortnumberinfo,
)
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

DestinationClass = Literal[
    "emergency",
    "national",
    "mobile",
    "international",
    "premium",
    "shared-cost",
    "toll-free",
    "special",
]
DESTINATION_CLASSES: tuple[DestinationClass, ...] = get_args(DestinationClass)

# Short numbers that must always connect, besides what phonenumbers calls emergency
# numbers: police non-emergency, information in a crisis, healthcare advice (Sweden).
PUBLIC_SAFETY_NUMBERS: dict[str, frozenset[str]] = {"SE": frozenset({"11414", "11313", "1177"})}

# Swedish premium rate ranges (0900, 0939, 0944): named here as well, so a change in the
# metadata of phonenumbers can never let them through.
_PREMIUM_PREFIXES = ("+46900", "+46939", "+46944")

_SEPARATORS = frozenset(" \t-()")
_NON_GEOGRAPHIC = "001"  # phonenumbers' region for +800, +870, +881, +883, +979 ...

# SIP status a refusal is sent with.
FORBIDDEN = 403
NOT_FOUND = 404
ADDRESS_INCOMPLETE = 484
SERVICE_UNAVAILABLE = 503


class NumberError(ValueError):
    """A dialled string that is not a phone number we can call; the message says why.

    `incomplete` is set when more digits would make it one ("070-123").
    """

    def __init__(self, message: str, *, incomplete: bool = False) -> None:
        super().__init__(message)
        self.incomplete = incomplete


def _digits(dialled: str) -> str:
    """The dialled string without separators; "+" kept only as the first character."""
    text = "".join(ch for ch in dialled.strip() if ch not in _SEPARATORS and not ch.isspace())
    if not text:
        raise NumberError("no number dialled")
    body = text[1:] if text.startswith("+") else text
    if not body.isascii() or not body.isdigit():
        raise NumberError(
            f"{dialled!r} is not a phone number (digits, a leading +, spaces, dashes"
            " and parentheses only)"
        )
    return text


def emergency_number(dialled: str, *, country: str = "SE") -> str | None:
    """The short number to send unchanged when `dialled` is an emergency or public-safety number.

    Accepts what a user might type: "112", "+46 112", "0046112". None for anything else.
    """
    try:
        text = _digits(dialled)
    except NumberError:
        return None
    code = str(phonenumbers.country_code_for_region(country))
    for prefix in ("+" + code, "00" + code):
        if text.startswith(prefix) and len(text) > len(prefix):
            text = text[len(prefix) :]
            break
    if not text.isdigit() or len(text) > 6:
        return None
    if text in PUBLIC_SAFETY_NUMBERS.get(country, frozenset()):
        return text
    return text if shortnumberinfo.is_emergency_number(text, country) else None


def is_short_number(number: str) -> bool:
    """True for what `to_e164` returns for an emergency number: send it to the trunk as is."""
    return not number.startswith("+")


def to_e164(dialled: str, *, country: str = "SE") -> str:
    """The dialled number in E.164 ("070-123 45 67" -> "+46701234567").

    National format, the international prefix "00" and "+E.164" are accepted; spaces,
    dashes and parentheses are ignored. Emergency numbers come back as their bare short
    number ("112"). Raises NumberError for anything that is not a valid number.
    """
    short = emergency_number(dialled, country=country)
    if short is not None:
        return short
    number = _parse(dialled, country)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse(dialled: str, country: str) -> PhoneNumber:
    text = _digits(dialled)
    try:
        number: PhoneNumber | None = phonenumbers.parse(text, country)
    except NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        return number
    if _incomplete(text, country):
        raise NumberError(f"{dialled!r} is too short to be a phone number", incomplete=True)
    if number is None:
        raise NumberError(f"{dialled!r} is not a phone number")
    if phonenumbers.is_possible_number_with_reason(number) == ValidationResult.TOO_LONG:
        raise NumberError(f"{dialled!r} is too long to be a phone number")
    raise NumberError(f"{dialled!r} is not a valid phone number")


def _incomplete(text: str, country: str) -> bool:
    """Whether more digits would make `text` a valid number (the user stopped too soon)."""
    for filler in "05":
        for extra in range(1, 16 - len(text.lstrip("+"))):
            try:
                longer = phonenumbers.parse(text + filler * extra, country)
            except NumberParseException:
                continue
            if phonenumbers.is_valid_number(longer):
                return True
    return False


def is_external(
    dialled: str, *, extension_length_range: tuple[int, int] = (2, 8), country: str = "SE"
) -> bool:
    """Whether the user dialled an external number rather than a colleague's extension.

    Swedish PBX convention: a leading 0 or + means external ("0701234567", "+44..."), and
    so do emergency numbers ("112"), which no extension may shadow. Digits within the
    extension length ("1002") are internal. Raises NumberError for anything else.
    """
    shortest, longest = extension_length_range
    if not 1 <= shortest <= longest:
        raise ValueError(f"bad extension length range {extension_length_range!r}")
    text = _digits(dialled)
    if text.startswith(("0", "+")) or emergency_number(text, country=country) is not None:
        return True
    if shortest <= len(text) <= longest:
        return False
    raise NumberError(
        f"{dialled!r} is neither an extension ({shortest}-{longest} digits)"
        " nor an external number (starting with 0 or +)"
    )


def classify(number: str, *, country: str = "SE") -> DestinationClass:
    """What kind of destination a number is, from the point of view of a company in `country`.

    Premium rate wins over everything but emergency, in any country, since that is what
    toll fraud dials. Numbers of satellite and other non-geographic networks (+870, +881,
    +883) are "special". Swedish 010 (UAN) numbers cost a national call and count as one.
    """
    e164 = to_e164(number, country=country)
    if is_short_number(e164):
        return "emergency"
    if e164.startswith(_PREMIUM_PREFIXES):
        return "premium"
    parsed = phonenumbers.parse(e164)
    kind = phonenumbers.number_type(parsed)
    if kind == PhoneNumberType.PREMIUM_RATE:
        return "premium"
    region = phonenumbers.region_code_for_number(parsed)
    if region == _NON_GEOGRAPHIC:
        return "special"
    if parsed.country_code != phonenumbers.country_code_for_region(country):
        return "international"
    return _HOME_CLASSES.get(kind, "special")


_HOME_CLASSES: dict[int, DestinationClass] = {
    PhoneNumberType.FIXED_LINE: "national",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "national",
    PhoneNumberType.UAN: "national",
    PhoneNumberType.VOIP: "national",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.TOLL_FREE: "toll-free",
    PhoneNumberType.SHARED_COST: "shared-cost",
}

_BLOCKED: dict[DestinationClass, str] = {
    "national": "national numbers are blocked",
    "mobile": "mobile numbers are blocked",
    "international": "international calls are blocked",
    "premium": "premium-rate numbers are blocked",
    "shared-cost": "shared-cost numbers are blocked",
    "toll-free": "toll-free numbers are blocked",
    "special": "special numbers (personal, pager, satellite) are blocked",
}


def _known_class(value: object) -> object:
    if isinstance(value, str) and value not in DESTINATION_CLASSES:
        known = ", ".join(DESTINATION_CLASSES)
        raise ValueError(f"unknown destination class {value!r} (known: {known})")
    return value


class OutboundPolicy(BaseModel):
    """Which destinations a company's users may call out to, and how many calls at once.

    Premium rate and "special" numbers are denied unless listed. Shared-cost numbers
    (Swedish 077x, used by public agencies) cost the caller a normal call and are allowed.
    Emergency calls are always allowed: the class is added if left out.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed: frozenset[DestinationClass] = frozenset(
        {"emergency", "national", "mobile", "international", "toll-free", "shared-cost"}
    )
    max_concurrent_calls: int = Field(default=10, ge=0)

    @field_validator("allowed", mode="before")
    @classmethod
    def _known_classes(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError("allowed must be a list of destination classes, not one string")
        if isinstance(value, list | tuple | set | frozenset):
            for item in value:
                _known_class(item)
        return value

    @field_validator("allowed")
    @classmethod
    def _emergency_always(cls, value: frozenset[DestinationClass]) -> frozenset[DestinationClass]:
        return value | {"emergency"}

    @field_serializer("allowed", when_used="json")
    def _in_order(self, value: frozenset[DestinationClass]) -> list[str]:
        """A set has no order: written sorted, a stored description reads the same each time."""
        return sorted(value)


@dataclass(frozen=True, slots=True)
class Decision:
    """The guard's answer: may the call go out, and if not, why (in words and as SIP status)."""

    allowed: bool
    cause: str
    destination: DestinationClass | None = None
    status: int = 0


def check(
    policy: OutboundPolicy, number: str, active_outbound_calls: int, *, country: str = "SE"
) -> Decision:
    """Whether a company with `active_outbound_calls` calls out now may call `number`.

    Emergency is never refused. A number that is not valid is refused (484 when digits are
    missing, else 404), a class the policy does not allow is refused (403), and so is a call
    past the ceiling (503).
    """
    try:
        destination = classify(number, country=country)
    except NumberError as exc:
        return Decision(False, str(exc), None, ADDRESS_INCOMPLETE if exc.incomplete else NOT_FOUND)
    if destination == "emergency":
        return Decision(True, "", destination)
    if destination not in policy.allowed:
        return Decision(False, _BLOCKED[destination], destination, FORBIDDEN)
    if active_outbound_calls >= policy.max_concurrent_calls:
        cause = f"too many outbound calls ({policy.max_concurrent_calls})"
        return Decision(False, cause, destination, SERVICE_UNAVAILABLE)
    return Decision(True, "", destination)


CallerIdSource = Literal["main", "direct", "mobile", "support"]
DeviceKind = Literal["mobile", "softphone", "desk"]
_SOURCES: tuple[str, ...] = get_args(CallerIdSource)
_DEVICES: tuple[str, ...] = get_args(DeviceKind)


def _known_source(value: object) -> object:
    if isinstance(value, str) and value not in _SOURCES:
        raise ValueError(f"unknown caller ID choice {value!r} (choose {', '.join(_SOURCES)})")
    return value


class CallerIdChoice(BaseModel):
    """Which of a user's numbers the called party sees (U8, §3.7.2).

    `show` is the user's choice; `per_device` overrides it for calls from one kind of
    device ("always show the mobile number when calling from the mobile").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    show: CallerIdSource = "main"
    per_device: dict[DeviceKind, CallerIdSource] = Field(default_factory=dict)

    @field_validator("show", mode="before")
    @classmethod
    def _known_show(cls, value: object) -> object:
        return _known_source(value)

    @field_validator("per_device", mode="before")
    @classmethod
    def _known_devices(cls, value: object) -> object:
        if isinstance(value, dict):
            for device, source in value.items():
                if isinstance(device, str) and device not in _DEVICES:
                    raise ValueError(
                        f"unknown device kind {device!r} (choose {', '.join(_DEVICES)})"
                    )
                _known_source(source)
        return value


def caller_id(
    choice: CallerIdChoice | CallerIdSource,
    *,
    main: str,
    direct: str | None = None,
    mobile: str | None = None,
    support: str | None = None,
    device: DeviceKind | None = None,
) -> str:
    """The number to present on an outbound call: the chosen one, or the main number.

    Falls back to the company's main number when the chosen number is not set, so a call
    never goes out anonymous by mistake. Numbers are returned as given (stored as E.164).
    """
    if isinstance(choice, str):
        choice = CallerIdChoice(show=choice)
    source = choice.per_device.get(device, choice.show) if device else choice.show
    numbers = {"main": main, "direct": direct, "mobile": mobile, "support": support}
    return numbers[source] or main
