"""A callback asked for from a menu (A1), sent on by e-mail and SMS.

A menu key with `callback:` takes the number to call back by DTMF (features/callback_menu.py)
and hands it here: the people the company named are told by e-mail and SMS, with the number,
who called and when. Runs on the database thread, like the voicemail notices; a notice that
fails is logged and does not lose the request (it is on the callback list when the key
names a queue).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

from vaxel.services.company_config import CompanyConfig
from vaxel.services.notify import NotifyError, send_message, send_sms

log = logging.getLogger(__name__)

WORDS = {
    "sv": {
        "subject": "Återuppringning önskas: {number}",
        "body": "Någon ringde och vill bli uppringd.\n\nRing upp: {number}\nRingde från: "
        "{caller}\nTid: {when}\n",
        "sms": "Återuppringning önskas: {number} (ringde från {caller}, {when})",
        "unknown": "okänt nummer",
    },
    "en": {
        "subject": "Callback requested: {number}",
        "body": "Someone called and would like to be called back.\n\nCall back: {number}\n"
        "Called from: {caller}\nTime: {when}\n",
        "sms": "Callback requested: {number} (called from {caller}, {when})",
        "unknown": "unknown number",
    },
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackRequest:
    number: str  # to call back
    caller: str  # the caller ID they called from ("" when hidden)
    requested_at: datetime
    email: tuple[str, ...]
    sms: tuple[str, ...]


def texts(config: CompanyConfig, request: CallbackRequest) -> dict[str, str]:
    """The notice's subject, mail body and SMS, in the company's language and zone."""
    company = config.company
    words = WORDS[company.language]
    local = request.requested_at.astimezone(ZoneInfo(company.timezone))
    values = {
        "number": request.number,
        "caller": request.caller or words["unknown"],
        "when": f"{local:%Y-%m-%d %H:%M}",
    }
    return {key: words[key].format(**values) for key in ("subject", "body", "sms")}


def deliver(config: CompanyConfig, request: CallbackRequest) -> None:
    """Tell the request's addresses and numbers; failures are logged, one by one."""
    said = texts(config, request)
    if request.email and config.mail is not None:
        settings = config.mail.settings()
        message = EmailMessage()
        message["Subject"] = said["subject"]
        message["From"] = settings.sender
        message["To"] = ", ".join(request.email)
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(said["body"])
        try:
            send_message(settings, message, list(request.email))
        except NotifyError as exc:
            log.warning("callback request mail not sent: %s", exc)
    if request.sms and config.sms is not None:
        for phone in request.sms:
            try:
                send_sms(config.sms, phone, said["sms"], caller=request.caller)
            except NotifyError as exc:
                log.warning("callback request SMS to %s not sent: %s", phone, exc)
