"""services/callback_request (A1): a callback asked for from a menu reaches its people by
e-mail (a real SMTP server, aiosmtpd) and SMS (a local HTTP gateway), in the company's
language and time zone; a failing notice loses nothing else."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from tests.services.test_notify import GatewayServer, Mailbox, gateway_server, mailbox
from vaxel.services.callback_request import CallbackRequest, deliver, texts
from vaxel.services.company_config import CompanyConfig
from vaxel.services.notify import MailSettings

__all__ = ["gateway_server", "mailbox"]  # the fixtures this module uses

ASKED = datetime(2026, 12, 7, 13, 5, tzinfo=UTC)  # 14:05 in Stockholm


def config(mail: MailSettings | None, gateway: str | None, language: str = "sv") -> CompanyConfig:
    described: dict[str, object] = {"company": {"domain": "acme.example", "name": "Acme AB",
                                                "language": language}}  # fmt: skip
    if mail is not None:
        described["mail"] = {"host": mail.host, "port": mail.port, "sender": mail.sender}
    if gateway is not None:
        described["sms"] = {"url_template": gateway + "/send?to={to}&text={text}"}
    return CompanyConfig.model_validate(described)


def request(**changes: object) -> CallbackRequest:
    values: dict[str, object] = {
        "number": "0701234567", "caller": "+46701740605", "requested_at": ASKED,
        "email": ("kundtjanst@acme.example",), "sms": ("+46709999999",),
    }  # fmt: skip
    values.update(changes)
    return CallbackRequest(**values)  # type: ignore[arg-type]


def test_the_mail_and_the_sms_say_whom_to_call_and_when(
    mailbox: tuple[Mailbox, MailSettings], gateway_server: GatewayServer
) -> None:
    box, settings = mailbox
    deliver(config(settings, gateway_server.base), request())
    message = box.only_message()
    assert message["Subject"] == "Återuppringning önskas: 0701234567"
    assert message["To"] == "kundtjanst@acme.example"
    body = message.get_content()
    assert "Ring upp: 0701234567" in body and "+46701740605" in body
    assert "2026-12-07 14:05" in body
    (sent,) = gateway_server.requests
    query = parse_qs(urlsplit(sent["path"]).query)
    assert query["to"] == ["+46709999999"]
    assert query["text"] == ["Återuppringning önskas: 0701234567 (ringde från +46701740605, "
                             "2026-12-07 14:05)"]  # fmt: skip


def test_english_and_a_hidden_caller() -> None:
    said = texts(config(None, None, "en"), request(caller=""))
    assert said["subject"] == "Callback requested: 0701234567"
    assert "Called from: unknown number" in said["body"]


def test_a_failing_mail_server_does_not_stop_the_sms(gateway_server: GatewayServer) -> None:
    dead = MailSettings(host="127.0.0.1", port=9, sender="vaxel@acme.example", timeout=2)
    deliver(config(dead, gateway_server.base), request())
    assert len(gateway_server.requests) == 1
