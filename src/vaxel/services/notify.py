"""Voicemail notifications by e-mail and SMS (S6, U7); the senders meeting invitations use
too (A3, services/meetings.py).

The service description asks that a new message is announced at once by
e-mail and SMS, showing clearly which number called and the date and time
(§2.1.5). Both senders are synchronous and blocking on purpose: the switch
runs them on a worker thread, so they take timeouts and turn every failure
into one `NotifyError` that says what went wrong, never an unexpected
exception in the middle of a call flow.

The configuration models are frozen Pydantic models so that a company's
YAML file can embed them.
"""

from __future__ import annotations

import http.client
import json
import re
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Literal
from urllib.parse import quote, quote_plus, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from vaxel.services.errors import ServiceError

__all__ = [
    "DEFAULT_TIMEZONE",
    "MailSettings",
    "NotifyError",
    "SmsGateway",
    "send_message",
    "send_sms",
    "send_voicemail_mail",
    "voicemail_mail_subject",
    "voicemail_sms_text",
]

Language = Literal["sv", "en"]
DEFAULT_TIMEZONE = "Europe/Stockholm"

_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")
_PLACEHOLDERS = ("to", "text", "caller")
_ERROR_SNIPPET = 200  # characters of a gateway's error answer worth showing

_WEEKDAYS = {
    "sv": ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "sv": (
        "januari", "februari", "mars", "april", "maj", "juni",
        "juli", "augusti", "september", "oktober", "november", "december",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip
_WORDS = {
    "sv": {
        "subject": "Nytt röstmeddelande från {caller}",
        "unknown": "okänt nummer",
        "at": "kl.",
        "intro": "Nytt röstmeddelande i röstbrevlådan {box}.",
        "from": "Från:",
        "time": "Tid:",
        "length": "Längd:",
        "attached": "Meddelandet finns som ljudfil i bilagan.",
        "sms": "Nytt röstmeddelande{box} från {caller}, {when}, {length}.",
        "sms_box": " i {box}",
    },
    "en": {
        "subject": "New voicemail from {caller}",
        "unknown": "unknown number",
        "at": "at",
        "intro": "New voicemail in the mailbox {box}.",
        "from": "From:",
        "time": "Time:",
        "length": "Duration:",
        "attached": "The message is attached as a sound file.",
        "sms": "New voicemail{box} from {caller}, {when}, {length}.",
        "sms_box": " in {box}",
    },
}


class NotifyError(ServiceError):
    """A notification could not be sent; the message says why and to where."""


# ---------------------------------------------------------------- wording


def _words(language: str) -> Mapping[str, str]:
    try:
        return _WORDS[language]
    except KeyError:
        raise ValueError(f"unknown language {language!r}; use 'sv' or 'en'") from None


def _zone(timezone: str | tzinfo) -> tzinfo:
    if isinstance(timezone, tzinfo):
        return timezone
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}") from None


def _local(received_at: datetime, timezone: str | tzinfo) -> datetime:
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware (a naive time has no known zone)")
    return received_at.astimezone(_zone(timezone))


def _one_line(text: str) -> str:
    """Caller names come from SIP headers: keep them to one printable line."""
    return _CONTROL.sub(" ", text).strip()


def _caller_label(caller: str | None, language: str) -> str:
    caller = _one_line(caller or "")
    return caller or _words(language)["unknown"]


def _when(local: datetime, language: str, *, long: bool) -> str:
    day = f"{local.day} {_MONTHS[language][local.month - 1]}"
    if long:
        day = f"{_WEEKDAYS[language][local.weekday()]} {day} {local.year}"
    return f"{day} {_words(language)['at']} {local:%H:%M}"


def _length(duration: float | timedelta) -> str:
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else float(duration)
    minutes, seconds = divmod(max(0, round(seconds)), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def voicemail_mail_subject(caller: str | None, language: Language = "sv") -> str:
    """The e-mail subject: "Nytt röstmeddelande från 0701234567" / "New voicemail from ..."."""
    return _words(language)["subject"].format(caller=_caller_label(caller, language))


def voicemail_sms_text(
    caller: str | None,
    received_at: datetime,
    duration: float | timedelta,
    language: Language = "sv",
    *,
    timezone: str | tzinfo = DEFAULT_TIMEZONE,
    box_name: str | None = None,
) -> str:
    """One short SMS: who called, when (in the company's zone) and for how long.

    `duration` is in seconds (or a timedelta). Swedish letters are in the
    GSM 7-bit alphabet, so the text stays one SMS for a normal number.
    """
    words = _words(language)
    local = _local(received_at, timezone)
    box = words["sms_box"].format(box=_one_line(box_name)) if box_name else ""
    return words["sms"].format(
        box=box,
        caller=_caller_label(caller, language),
        when=_when(local, language, long=False),
        length=_length(duration),
    )


# ---------------------------------------------------------------- e-mail


def _check_address(address: str) -> str:
    if not _ADDRESS.fullmatch(address):
        raise ValueError(f"{address!r} is not an e-mail address")
    return address


class MailSettings(BaseModel):
    """How to reach the provider's (or the company's) outgoing mail server."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "voicemail@localhost"
    timeout: float = Field(default=10.0, gt=0, le=300, description="seconds per connect and reply")
    helo_name: str | None = Field(
        default=None, description="name to greet the server with; default: this machine's FQDN"
    )

    @field_validator("host")
    @classmethod
    def _host(cls, host: str) -> str:
        if not host or any(ch.isspace() for ch in host):
            raise ValueError(f"mail host {host!r} is not a host name or address")
        return host

    @field_validator("sender")
    @classmethod
    def _sender(cls, sender: str) -> str:
        return _check_address(sender)

    @model_validator(mode="after")
    def _credentials(self) -> MailSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password for the mail server, or neither")
        return self


def _build_mail(
    settings: MailSettings,
    *,
    recipients: list[str],
    caller: str | None,
    caller_name: str | None,
    local: datetime,
    duration_seconds: float,
    wav: bytes,
    box_name: str,
    language: str,
) -> EmailMessage:
    words = _words(language)
    number = _caller_label(caller, language)
    name = _one_line(caller_name or "")
    who = f"{number} ({name})" if name and name != number else number
    width = max(len(words[key]) for key in ("from", "time", "length")) + 1
    body = "\n".join(
        [
            words["intro"].format(box=_one_line(box_name)),
            "",
            f"{words['from']:<{width}}{who}",
            f"{words['time']:<{width}}{_when(local, language, long=True)}",
            f"{words['length']:<{width}}{_length(duration_seconds)}",
            "",
            words["attached"],
            "",
        ]
    )
    message = EmailMessage()
    message["Subject"] = words["subject"].format(caller=number)
    message["From"] = settings.sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message.set_content(body)
    safe_caller = re.sub(r"[^0-9A-Za-z+]", "", caller or "") or "unknown"
    filename = f"voicemail-{local:%Y-%m-%d-%H%M}-{safe_caller}.wav"
    message.add_attachment(wav, maintype="audio", subtype="wav", filename=filename)
    return message


def _smtp_reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {_one_line(text)}"


def _deliver(settings: MailSettings, message: EmailMessage, recipients: list[str]) -> None:
    server = f"{settings.host}:{settings.port}"
    try:
        with smtplib.SMTP(
            settings.host,
            settings.port,
            local_hostname=settings.helo_name,
            timeout=settings.timeout,
        ) as smtp:
            if settings.starttls:
                try:
                    smtp.starttls(context=ssl.create_default_context())
                except smtplib.SMTPNotSupportedError:
                    raise NotifyError(f"the mail server {server} does not offer STARTTLS") from None
            if settings.username is not None and settings.password is not None:
                try:
                    smtp.login(settings.username, settings.password.get_secret_value())
                except smtplib.SMTPNotSupportedError:
                    hint = "" if settings.starttls else " (does it want STARTTLS first?)"
                    raise NotifyError(
                        f"the mail server {server} does not offer a login (AUTH){hint}"
                    ) from None
            refused = smtp.send_message(message, to_addrs=recipients)
    except smtplib.SMTPAuthenticationError as error:
        raise NotifyError(
            f"the mail server {server} refused the login of {settings.username!r}: "
            + _smtp_reply(error.smtp_code, error.smtp_error)
        ) from None
    except smtplib.SMTPRecipientsRefused as error:
        refused_all = ", ".join(
            f"{address} ({_smtp_reply(*reply)})" for address, reply in error.recipients.items()
        )
        raise NotifyError(
            f"the mail server {server} refused every recipient: {refused_all}"
        ) from None
    except smtplib.SMTPSenderRefused as error:
        raise NotifyError(
            f"the mail server {server} refused the sender {settings.sender}: "
            + _smtp_reply(error.smtp_code, error.smtp_error)
        ) from None
    except smtplib.SMTPResponseException as error:
        raise NotifyError(
            f"the mail server {server} refused the message: "
            + _smtp_reply(error.smtp_code, error.smtp_error)
        ) from None
    except ssl.SSLError as error:
        raise NotifyError(f"TLS with the mail server {server} failed: {error}") from None
    except (OSError, smtplib.SMTPException) as error:
        why = str(error) or type(error).__name__
        raise NotifyError(f"cannot send mail through {server}: {why}") from None
    if refused:
        names = ", ".join(
            f"{address} ({_smtp_reply(*reply)})" for address, reply in refused.items()
        )
        raise NotifyError(
            f"the mail server {server} refused {names}; the other recipients got the message"
        )


def mail_addresses(values: list[str]) -> list[str]:
    """Addresses given by people (a form, the API), trimmed and each once, in order; a
    ValueError names one that `send_message` would not send to."""
    cleaned = [value.strip() for value in values]
    for value in cleaned:
        if not _ADDRESS.fullmatch(value):
            raise ValueError(f"{value!r} is not an e-mail address")
    return list(dict.fromkeys(cleaned))


def send_message(settings: MailSettings, message: EmailMessage, recipients: list[str]) -> None:
    """Send a mail already made (a meeting's invitation, A3) through the mail server;
    blocking, raising NotifyError as `send_voicemail_mail` does."""
    for address in recipients:
        if not _ADDRESS.fullmatch(address):
            raise NotifyError(f"cannot send mail to {address!r}: not an address")
    _deliver(settings, message, recipients)


def send_voicemail_mail(
    settings: MailSettings,
    *,
    to: str | Sequence[str],
    caller: str | None,
    caller_name: str | None,
    received_at: datetime,
    duration_seconds: float,
    wav_path: str | Path,
    box_name: str,
    language: Language = "sv",
    timezone: str | tzinfo = DEFAULT_TIMEZONE,
) -> None:
    """E-mail a new voicemail, with the recording attached, to one or more people.

    The body names the caller's number (and name when known), the date and
    time in the company's `timezone`, the length and the mailbox. Blocking:
    run it on a worker thread. Raises NotifyError when the recording cannot
    be read, an address is not one, or the mail server cannot be reached or
    refuses (a partial refusal still raises, naming who did not get it).
    """
    local = _local(received_at, timezone)
    _words(language)  # a wrong language is a bug: fail before any I/O
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise NotifyError("no recipients for the voicemail e-mail")
    for address in recipients:
        if not _ADDRESS.fullmatch(address):
            raise NotifyError(f"cannot send the voicemail e-mail to {address!r}: not an address")
    try:
        wav = Path(wav_path).read_bytes()
    except OSError as error:
        raise NotifyError(
            f"cannot read the voicemail recording {wav_path}: {error.strerror or error}"
        ) from None
    message = _build_mail(
        settings,
        recipients=recipients,
        caller=caller,
        caller_name=caller_name,
        local=local,
        duration_seconds=duration_seconds,
        wav=wav,
        box_name=box_name,
        language=language,
    )
    _deliver(settings, message, recipients)


# ---------------------------------------------------------------- SMS


def _placeholders(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))


class SmsGateway(BaseModel):
    """An HTTP SMS gateway, described by templates the provider fills in.

    `{to}`, `{text}` and `{caller}` in the templates are replaced by the
    recipient's number, the message and the calling number: URL-encoded in
    `url_template`; in `body_template` form-encoded, JSON-string-escaped or
    as is, following `content_type`. Other braces (a JSON body's) stay.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url_template: str
    method: Literal["GET", "POST"] = "GET"
    body_template: str | None = None
    content_type: str = "application/x-www-form-urlencoded"
    headers: dict[str, str] = Field(
        default_factory=dict, description="extra request headers, e.g. Authorization"
    )
    timeout: float = Field(default=5.0, gt=0, le=120, description="seconds for connect and answer")

    @field_validator("url_template")
    @classmethod
    def _url(cls, template: str) -> str:
        parts = urlsplit(_PLACEHOLDER.sub("0", template))
        if parts.scheme.lower() not in ("http", "https"):
            raise ValueError(
                f"the SMS gateway URL must start with http:// or https://, not {parts.scheme!r}"
            )
        if not parts.hostname:
            raise ValueError("the SMS gateway URL has no host")
        return template

    @field_validator("headers")
    @classmethod
    def _headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
                raise ValueError(f"{name!r} is not an HTTP header name")
            if _CONTROL.search(value.replace("\t", " ")):
                raise ValueError(f"the value of header {name!r} has a line break or control")
        return headers

    @model_validator(mode="after")
    def _templates(self) -> SmsGateway:
        used = _placeholders(self.url_template) | _placeholders(self.body_template or "")
        unknown = sorted(used - set(_PLACEHOLDERS))
        if unknown:
            raise ValueError(
                f"unknown placeholder '{{{unknown[0]}}}' in the SMS gateway;"
                " use {to}, {text} or {caller}"
            )
        for name in ("to", "text"):
            if name not in used:
                raise ValueError(
                    f"the SMS gateway needs {{{name}}} in url_template or body_template"
                )
        if self.body_template is not None and self.method == "GET":
            raise ValueError("body_template is only sent with method POST")
        return self


def _fill(template: str, values: Mapping[str, str], encode: Callable[[str], str]) -> str:
    return _PLACEHOLDER.sub(
        lambda match: encode(values[match[1]]) if match[1] in values else match[0], template
    )


def _body_encoder(content_type: str) -> Callable[[str], str]:
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        return quote_plus
    if media_type == "application/json" or media_type.endswith("+json"):
        return lambda value: json.dumps(value)[1:-1]
    return lambda value: value


def send_sms(gateway: SmsGateway, to: str, text: str, *, caller: str = "") -> None:
    """Send one SMS through `gateway`; blocking, so run it on a worker thread.

    Redirects are not followed and proxies from the environment are not
    used: the provider's URL is where the message goes. Any answer outside
    2xx, a timeout or an unreachable gateway raises NotifyError; the message
    names the gateway by scheme, host and port only, as the rest of the URL
    often carries an API key.
    """
    if not to.strip():
        raise NotifyError("no phone number to send the SMS to")
    values = {"to": to, "text": text, "caller": caller}
    url = _fill(gateway.url_template, values, lambda value: quote(value, safe=""))
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise NotifyError(
            f"refusing to send an SMS over {parts.scheme or 'a URL without scheme'!r}:"
            " the gateway must be http:// or https://"
        )
    port = f":{parts.port}" if parts.port else ""
    origin = f"{parts.scheme}://{parts.hostname}{port}"
    headers = {"User-Agent": "vaxel", **gateway.headers}
    data = None
    if gateway.method == "POST":
        body = gateway.body_template or ""
        data = _fill(body, values, _body_encoder(gateway.content_type)).encode("utf-8")
        headers.setdefault("Content-Type", gateway.content_type)
    request = urllib.request.Request(url, data=data, headers=headers, method=gateway.method)
    opener = urllib.request.OpenerDirector()
    opener.add_handler(urllib.request.HTTPHandler())
    opener.add_handler(urllib.request.HTTPSHandler(context=ssl.create_default_context()))
    try:
        with opener.open(request, timeout=gateway.timeout) as response:
            status, reason = response.status, response.reason
            answer = response.read(_ERROR_SNIPPET * 4) if not 200 <= status < 300 else b""
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        why = getattr(error, "reason", None) or str(error) or type(error).__name__
        raise NotifyError(f"cannot reach the SMS gateway {origin}: {why}") from None
    if not 200 <= status < 300:
        detail = _one_line(answer.decode("utf-8", "replace"))[:_ERROR_SNIPPET]
        raise NotifyError(
            f"the SMS gateway {origin} answered {status} {reason}"
            + (f": {detail}" if detail else "")
        )
