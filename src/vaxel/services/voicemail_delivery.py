"""A new voicemail message reaches its people (S6, U7): stored, then mailed and texted.

The message's row is written first; then every recipient the company's
description names is told: by e-mail with the recording attached (the
box's addresses and the user's own), and by SMS through the provider's
gateway. A failed notice is logged and does not lose the message. Runs on
the database thread, never on the loop that carries calls.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from vaxel.services.company_config import CompanyConfig
from vaxel.services.notify import (
    NotifyError,
    send_sms,
    send_voicemail_mail,
    voicemail_sms_text,
)
from vaxel.services.voicemail import Message, NewMessage, save_message
from vaxel.store import Store

log = logging.getLogger(__name__)


def deliver(
    store: Store,
    company_id: int,
    config: CompanyConfig,
    new: NewMessage,
    received_at: datetime | None = None,
) -> Message:
    """Store `new` in its box, then send its notices; returns the stored message."""
    saved = save_message(
        store,
        company_id,
        new.box,
        caller=new.caller,
        caller_name=new.caller_name,
        received_at=received_at or datetime.now(UTC),
        duration_seconds=new.seconds,
        path=new.path,
    )
    _text(config, saved)
    _mail(config, saved)
    return saved


def _told(config: CompanyConfig, box: str) -> tuple[list[str], list[str]]:
    """Who hears of a message in `box`: e-mail addresses and SMS numbers, the shared box's
    and the user's own."""
    shared = config.voicemail.get(box)
    user = next((u for u in config.users if u.ext == box), None)
    addresses = list(shared.email) if shared is not None else []
    phones = list(shared.sms) if shared is not None else []
    if user is not None:
        addresses += [user.voicemail.email] if user.voicemail.email else []
        phones += [user.voicemail.sms] if user.voicemail.sms else []
    return addresses, phones


def _text(config: CompanyConfig, saved: Message) -> None:
    phones = _told(config, saved.box)[1]
    if not phones or config.sms is None:
        return
    company = config.company
    text = voicemail_sms_text(
        saved.caller, saved.received_at, saved.duration_seconds, company.language,
        timezone=company.timezone, box_name=saved.box,
    )  # fmt: skip
    for phone in phones:
        try:
            send_sms(config.sms, phone, text, caller=saved.caller)
        except NotifyError as exc:
            log.warning("voicemail SMS to %s not sent: %s", phone, exc)


def _mail(config: CompanyConfig, saved: Message) -> None:
    recipients = _told(config, saved.box)[0]
    if not recipients or config.mail is None:
        return
    company = config.company
    try:
        send_voicemail_mail(
            config.mail.settings(), to=recipients, caller=saved.caller,
            caller_name=saved.caller_name, received_at=saved.received_at,
            duration_seconds=saved.duration_seconds, wav_path=saved.path, box_name=saved.box,
            language=company.language, timezone=company.timezone,
        )  # fmt: skip
    except NotifyError as exc:
        log.warning("voicemail e-mail for %s not sent: %s", saved.box, exc)
