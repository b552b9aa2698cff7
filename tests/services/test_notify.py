"""Voicemail notifications (S6, U7): e-mail through a real SMTP server, SMS through HTTP.

Everything runs on 127.0.0.1: an aiosmtpd server collects the mail, an
http.server thread plays the SMS gateway.
"""

from __future__ import annotations

import email
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from pydantic import ValidationError

from vaxel.services.configuration import load_yaml
from vaxel.services.notify import (
    MailSettings,
    NotifyError,
    SmsGateway,
    send_sms,
    send_voicemail_mail,
    voicemail_sms_text,
)

# Tuesday 5 March 2024, 14:07:30 in Stockholm (CET, UTC+1).
WINTER = datetime(2024, 3, 5, 13, 7, 30, tzinfo=UTC)
# Monday 1 July 2024, 12:30 in Stockholm (CEST, UTC+2).
SUMMER = datetime(2024, 7, 1, 10, 30, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- SMTP server


class Mailbox:
    """An aiosmtpd handler that keeps every message and can refuse recipients."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def only_message(self) -> EmailMessage:
        assert len(self.envelopes) == 1
        content = self.envelopes[0].content
        assert isinstance(content, bytes)
        message = email.message_from_bytes(content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        return message


def _authenticator(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"vaxel",
        b"s3cret-pass",
    )
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself


def _start(mailbox: Mailbox, **smtp_options: Any) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port(), **smtp_options)
    controller.start()
    return controller


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, MailSettings]]:
    box = Mailbox()
    controller = _start(box)
    settings = MailSettings(
        host="127.0.0.1", port=controller.port, sender="voicemail@acme.example.se", timeout=5
    )
    yield box, settings
    controller.stop()


@pytest.fixture
def wav_file(tmp_path: Path) -> Path:
    """A real 8 kHz mono WAV whose samples use every byte value."""
    path = tmp_path / "message-0001.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(range(256)) * 125)  # 16000 frames = 2 s
    return path


def _attachments(message: EmailMessage) -> list[EmailMessage]:
    return list(message.iter_attachments())  # type: ignore[arg-type]


# ---------------------------------------------------------------- e-mail


def test_voicemail_mail_arrives_with_caller_time_and_the_recording(
    mailbox: tuple[Mailbox, MailSettings], wav_file: Path
) -> None:
    box, settings = mailbox
    send_voicemail_mail(
        settings,
        to="anna@acme.example.se",
        caller="0701234567",
        caller_name="Bertil Berg",
        received_at=WINTER,
        duration_seconds=83.4,
        wav_path=wav_file,
        box_name="Kundtjänst",
    )
    message = box.only_message()
    assert box.envelopes[0].mail_from == "voicemail@acme.example.se"
    assert box.envelopes[0].rcpt_tos == ["anna@acme.example.se"]
    assert message["Subject"] == "Nytt röstmeddelande från 0701234567"
    assert message["From"] == "voicemail@acme.example.se"
    assert message["To"] == "anna@acme.example.se"
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "röstbrevlådan Kundtjänst" in text
    assert "0701234567 (Bertil Berg)" in text
    assert "tisdag 5 mars 2024 kl. 14:07" in text  # Stockholm time, not UTC
    assert "1 min 23 s" in text
    (attachment,) = _attachments(message)
    assert attachment.get_content_type() == "audio/wav"
    assert attachment.get_filename() == "voicemail-2024-03-05-1407-0701234567.wav"
    assert attachment.get_content() == wav_file.read_bytes()


def test_english_mail_to_several_members_in_summer_time(
    mailbox: tuple[Mailbox, MailSettings], wav_file: Path
) -> None:
    box, settings = mailbox
    members = ["anna@acme.example.se", "bo@acme.example.se"]
    send_voicemail_mail(
        settings,
        to=members,
        caller="+46701234567",
        caller_name=None,
        received_at=SUMMER,
        duration_seconds=12,
        wav_path=wav_file,
        box_name="Support",
        language="en",
    )
    message = box.only_message()
    assert box.envelopes[0].rcpt_tos == members
    assert message["Subject"] == "New voicemail from +46701234567"
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "mailbox Support" in text
    assert "From:     +46701234567" in text.splitlines()
    assert "Monday 1 July 2024 at 12:30" in text
    assert "12 s" in text
    (attachment,) = _attachments(message)
    assert attachment.get_filename() == "voicemail-2024-07-01-1230-+46701234567.wav"
    assert attachment.get_content() == wav_file.read_bytes()


def test_time_shown_in_the_zone_given(
    mailbox: tuple[Mailbox, MailSettings], wav_file: Path
) -> None:
    box, settings = mailbox
    send_voicemail_mail(
        settings,
        to="anna@acme.example.se",
        caller="0701234567",
        caller_name="",
        received_at=WINTER,
        duration_seconds=5,
        wav_path=wav_file,
        box_name="Helsinki",
        language="en",
        timezone="Europe/Helsinki",
    )
    text = box.only_message().get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Tuesday 5 March 2024 at 15:07" in text


def test_hidden_caller_and_a_name_with_line_breaks(
    mailbox: tuple[Mailbox, MailSettings], wav_file: Path
) -> None:
    box, settings = mailbox
    send_voicemail_mail(
        settings,
        to="anna@acme.example.se",
        caller=None,
        caller_name="Evil\r\nBcc: victim@example.com",
        received_at=WINTER,
        duration_seconds=61,
        wav_path=wav_file,
        box_name="Växel",
    )
    message = box.only_message()
    assert message["Subject"] == "Nytt röstmeddelande från okänt nummer"
    assert message["Bcc"] is None
    assert box.envelopes[0].rcpt_tos == ["anna@acme.example.se"]
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "okänt nummer (Evil Bcc: victim@example.com)" in text
    assert "1 min 1 s" in text
    (attachment,) = _attachments(message)
    assert attachment.get_filename() == "voicemail-2024-03-05-1407-unknown.wav"


def test_mail_server_down_fails_quickly(wav_file: Path) -> None:
    port = _free_port()  # nothing listens here
    settings = MailSettings(host="127.0.0.1", port=port, timeout=5)
    started = time.monotonic()
    with pytest.raises(NotifyError, match=f"cannot send mail through 127.0.0.1:{port}"):
        send_voicemail_mail(
            settings,
            to="anna@acme.example.se",
            caller="0701234567",
            caller_name=None,
            received_at=WINTER,
            duration_seconds=3,
            wav_path=wav_file,
            box_name="Kundtjänst",
        )
    assert time.monotonic() - started < 2


def _send(
    settings: MailSettings, wav_path: Path, to: str | list[str] = "anna@acme.example.se"
) -> None:
    send_voicemail_mail(
        settings,
        to=to,
        caller="0701234567",
        caller_name=None,
        received_at=WINTER,
        duration_seconds=3,
        wav_path=wav_path,
        box_name="Kundtjänst",
    )


def test_starttls_required_but_not_offered(
    mailbox: tuple[Mailbox, MailSettings], wav_file: Path
) -> None:
    box, settings = mailbox
    with pytest.raises(NotifyError, match="does not offer STARTTLS"):
        _send(settings.model_copy(update={"starttls": True}), wav_file)
    assert box.envelopes == []


def test_starttls_with_an_untrusted_certificate_fails(tmp_path: Path, wav_file: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox()
    controller = _start(box, tls_context=context, require_starttls=True)
    try:
        settings = MailSettings(host="127.0.0.1", port=controller.port, starttls=True)
        with pytest.raises(
            NotifyError,
            match=r"TLS with the mail server 127\.0\.0\.1:\d+ failed: .*CERTIFICATE_VERIFY_FAILED",
        ):
            _send(settings, wav_file)
        assert box.envelopes == []
    finally:
        controller.stop()


def test_login_with_username_and_password(wav_file: Path) -> None:
    box = Mailbox()
    controller = _start(box, authenticator=_authenticator, auth_require_tls=False)
    try:
        good = MailSettings(
            host="127.0.0.1", port=controller.port, username="vaxel", password="s3cret-pass"
        )
        _send(good, wav_file)
        assert len(box.envelopes) == 1
        bad = good.model_copy(update={"password": good.password.__class__("wrong")})
        with pytest.raises(NotifyError, match="refused the login of 'vaxel': 535"):
            _send(bad, wav_file)
        assert len(box.envelopes) == 1
    finally:
        controller.stop()


class TlsMailbox(Mailbox):
    """Also remembers, for each message, whether it came over TLS after a login, and who
    logged in."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions: list[tuple[bool, bool]] = []
        self.logins: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.sessions.append((session.ssl is not None, bool(session.authenticated)))
        return await super().handle_DATA(server, session, envelope)

    def authenticator(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        result = _authenticator(server, session, envelope, mechanism, auth_data)
        if result.success:
            self.logins.append(auth_data.login)
        return result


def test_the_descriptions_mail_section_sends_with_starttls_and_login(
    tmp_path: Path, wav_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mail:` in a company's YAML sets STARTTLS, user name and password (S6): a server that
    takes mail only over TLS and only after AUTH gets the message."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = TlsMailbox()
    controller = _start(
        box, tls_context=context, require_starttls=True, authenticator=box.authenticator,
        auth_required=True, auth_require_tls=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # this test's CA, for the default context
    try:
        config = load_yaml(
            "company: {domain: acme.example.se, name: Acme AB}\n"
            f"mail: {{host: 127.0.0.1, port: {controller.port}, sender: voicemail@acme.example.se,"
            " starttls: true, username: vaxel, password: s3cret-pass}\n"
        )
        assert config.mail is not None
        _send(config.mail.settings(), wav_file)
        assert box.sessions == [(True, True)] and box.logins == [b"vaxel"]
        assert box.only_message()["To"] == "anna@acme.example.se"
        plain = config.mail.settings().model_copy(update={"starttls": False})
        with pytest.raises(NotifyError, match=r"does not offer a login \(AUTH\) \(does it want"):
            _send(plain, wav_file)  # without TLS this server offers no login
        assert len(box.envelopes) == 1
    finally:
        controller.stop()


def test_password_is_not_shown_in_settings() -> None:
    settings = MailSettings(host="smtp.example.se", username="vaxel", password="s3cret-pass")
    assert "s3cret-pass" not in repr(settings)
    assert "s3cret-pass" not in str(settings.model_dump())


def test_every_recipient_refused(mailbox: tuple[Mailbox, MailSettings], wav_file: Path) -> None:
    box, settings = mailbox
    box.refuse = {"gone@acme.example.se"}
    with pytest.raises(NotifyError, match=r"refused every recipient: gone@acme\.example\.se \(550"):
        _send(settings, wav_file, to="gone@acme.example.se")
    assert box.envelopes == []


def test_some_recipients_refused_the_others_get_it(
    mailbox: tuple[Mailbox, MailSettings], wav_file: Path
) -> None:
    box, settings = mailbox
    box.refuse = {"gone@acme.example.se"}
    with pytest.raises(NotifyError, match=r"refused gone@acme\.example\.se .*the other recipients"):
        _send(settings, wav_file, to=["gone@acme.example.se", "anna@acme.example.se"])
    assert box.envelopes[0].rcpt_tos == ["anna@acme.example.se"]


def test_missing_recording(mailbox: tuple[Mailbox, MailSettings], tmp_path: Path) -> None:
    box, settings = mailbox
    with pytest.raises(NotifyError, match=r"cannot read the voicemail recording .*gone\.wav"):
        _send(settings, tmp_path / "gone.wav")
    assert box.envelopes == []


@pytest.mark.parametrize("to", [[], ["not an address"], ["a@b.se\r\nBcc: x@y.se"]])
def test_bad_recipients(
    mailbox: tuple[Mailbox, MailSettings], wav_file: Path, to: list[str]
) -> None:
    box, settings = mailbox
    with pytest.raises(NotifyError, match=r"no recipients|not an address"):
        _send(settings, wav_file, to=to)
    assert box.envelopes == []


def test_naive_time_and_unknown_language_are_bugs(
    mailbox: tuple[Mailbox, MailSettings], wav_file: Path
) -> None:
    _, settings = mailbox
    common: dict[str, Any] = {
        "to": "anna@acme.example.se",
        "caller": "0701234567",
        "caller_name": None,
        "duration_seconds": 3,
        "wav_path": wav_file,
        "box_name": "Kundtjänst",
    }
    with pytest.raises(ValueError, match="timezone-aware"):
        send_voicemail_mail(settings, received_at=datetime(2024, 3, 5, 14, 7), **common)
    with pytest.raises(ValueError, match="unknown language 'de'"):
        send_voicemail_mail(settings, received_at=WINTER, language="de", **common)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Stokholm'"):
        send_voicemail_mail(settings, received_at=WINTER, timezone="Europe/Stokholm", **common)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (
            {"host": "smtp.example.se", "sender": "voicemail"},
            "'voicemail' is not an e-mail address",
        ),
        ({"host": "smtp.example.se", "username": "vaxel"}, "both username and password"),
        ({"host": "smtp.example.se", "port": 0}, "greater than or equal to 1"),
        ({"host": "smtp example"}, "is not a host name"),
        ({"host": "smtp.example.se", "tls": True}, "Extra inputs are not permitted"),
    ],
)
def test_mail_settings_are_checked(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        MailSettings(**fields)


def test_mail_settings_defaults() -> None:
    settings = MailSettings(host="smtp.example.se")
    assert (settings.port, settings.starttls, settings.username, settings.password) == (
        25,
        False,
        None,
        None,
    )
    assert settings.sender == "voicemail@localhost"


# ---------------------------------------------------------------- SMS gateway


class _Gateway(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        server: GatewayServer = self.server  # type: ignore[assignment]
        server.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers.items()),
                "body": self.rfile.read(length),
            }
        )
        self.send_response(server.status)
        if 300 <= server.status < 400:
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        payload = server.answer.encode()
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class GatewayServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Gateway)
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.answer = "OK"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def gateway_server() -> Iterator[GatewayServer]:
    server = GatewayServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


TEXT = "Nytt röstmeddelande från 0701234567 & co, 5 mars kl. 14:07, 12 s."


def test_sms_get_with_encoded_values(gateway_server: GatewayServer) -> None:
    gateway = SmsGateway(
        url_template=gateway_server.base + "/api/send?key=abc123&to={to}&msg={text}&from={caller}"
    )
    send_sms(gateway, "+46701234567", TEXT, caller="0812345678")
    (request,) = gateway_server.requests
    assert request["method"] == "GET"
    path = request["path"]
    assert "to=%2B46701234567&" in path
    assert "r%C3%B6stmeddelande" in path
    query = parse_qs(urlsplit(path).query)
    assert query == {
        "key": ["abc123"],
        "to": ["+46701234567"],
        "msg": [TEXT],
        "from": ["0812345678"],
    }


def test_sms_post_form_body(gateway_server: GatewayServer) -> None:
    gateway = SmsGateway(
        url_template=gateway_server.base + "/sms",
        method="POST",
        body_template="to={to}&message={text}",
        headers={"Authorization": "Bearer t0ken"},
    )
    send_sms(gateway, "+46701234567", TEXT)
    (request,) = gateway_server.requests
    assert request["method"] == "POST"
    assert request["path"] == "/sms"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert request["headers"]["Authorization"] == "Bearer t0ken"
    assert parse_qs(request["body"].decode()) == {"to": ["+46701234567"], "message": [TEXT]}


def test_sms_post_json_body(gateway_server: GatewayServer) -> None:
    gateway = SmsGateway(
        url_template=gateway_server.base + "/v1/messages",
        method="POST",
        body_template='{"recipient": "{to}", "body": "{text}", "sender": "Vaxel"}',
        content_type="application/json",
    )
    text = 'Han sa "ring tillbaka"\nTack!'
    send_sms(gateway, "+46701234567", text)
    (request,) = gateway_server.requests
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == {
        "recipient": "+46701234567",
        "body": text,
        "sender": "Vaxel",
    }


def test_sms_gateway_error_answer(gateway_server: GatewayServer) -> None:
    gateway_server.status = 500
    gateway_server.answer = "database on fire"
    gateway = SmsGateway(url_template=gateway_server.base + "/send?key=topsecret&to={to}&t={text}")
    with pytest.raises(
        NotifyError, match="answered 500 Internal Server Error: database on fire"
    ) as caught:
        send_sms(gateway, "+46701234567", TEXT)
    assert gateway_server.base in str(caught.value)
    assert "topsecret" not in str(caught.value)


def test_sms_gateway_redirect_is_not_followed(gateway_server: GatewayServer) -> None:
    gateway_server.status = 302
    gateway = SmsGateway(url_template=gateway_server.base + "/send?to={to}&t={text}")
    with pytest.raises(NotifyError, match="answered 302"):
        send_sms(gateway, "+46701234567", TEXT)
    assert len(gateway_server.requests) == 1


def test_sms_gateway_down_fails_quickly() -> None:
    port = _free_port()
    gateway = SmsGateway(url_template=f"http://127.0.0.1:{port}/send?to={{to}}&t={{text}}")
    started = time.monotonic()
    with pytest.raises(NotifyError, match=f"cannot reach the SMS gateway http://127.0.0.1:{port}"):
        send_sms(gateway, "+46701234567", TEXT)
    assert time.monotonic() - started < 2


def test_sms_gateway_too_slow_times_out(gateway_server: GatewayServer) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts the connection, never answers
    try:
        port = listener.getsockname()[1]
        gateway = SmsGateway(
            url_template=f"http://127.0.0.1:{port}/send?to={{to}}&t={{text}}", timeout=0.3
        )
        started = time.monotonic()
        with pytest.raises(NotifyError, match="cannot reach the SMS gateway"):
            send_sms(gateway, "+46701234567", TEXT)
        assert time.monotonic() - started < 2
    finally:
        listener.close()


def test_sms_refuses_other_schemes() -> None:
    with pytest.raises(ValidationError, match="must start with http:// or https://, not 'file'"):
        SmsGateway(url_template="file:///var/spool/sms?to={to}&t={text}")
    unchecked = SmsGateway.model_construct(
        url_template="file:///var/spool/sms?to={to}&t={text}",
        method="GET",
        body_template=None,
        content_type="text/plain",
        headers={},
        timeout=1.0,
    )
    with pytest.raises(NotifyError, match="refusing to send an SMS over 'file'"):
        send_sms(unchecked, "+46701234567", TEXT)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (
            {"url_template": "https://sms.example.se/?to={to}&t={txt}"},
            "unknown placeholder '{txt}'",
        ),
        ({"url_template": "https://sms.example.se/?t={text}"}, "needs {to}"),
        ({"url_template": "https://sms.example.se/?to={to}"}, "needs {text}"),
        (
            {"url_template": "https://sms.example.se/?to={to}", "body_template": "{text}"},
            "only sent with method POST",
        ),
        ({"url_template": "https:///?to={to}&t={text}"}, "has no host"),
        (
            {"url_template": "https://x.se/{to}/{text}", "headers": {"X-Key": "a\r\nEvil: 1"}},
            "line break",
        ),
        ({"url_template": "https://x.se/{to}/{text}", "method": "PUT"}, "'GET' or 'POST'"),
    ],
)
def test_sms_gateway_settings_are_checked(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        SmsGateway(**fields)


# ---------------------------------------------------------------- SMS text


def test_sms_text_swedish() -> None:
    text = voicemail_sms_text("0701234567", WINTER, 83.4, "sv")
    assert text == "Nytt röstmeddelande från 0701234567, 5 mars kl. 14:07, 1 min 23 s."
    assert len(text) <= 160


def test_sms_text_english_with_box_and_summer_time() -> None:
    text = voicemail_sms_text(
        "+46701234567", SUMMER, timedelta(seconds=9), "en", box_name="Support"
    )
    assert text == "New voicemail in Support from +46701234567, 1 July at 12:30, 9 s."


def test_sms_text_hidden_number_and_other_zone() -> None:
    received = datetime(2024, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    text = voicemail_sms_text(None, received, 120, "sv", box_name="Växel")
    assert text == "Nytt röstmeddelande i Växel från okänt nummer, 1 januari kl. 05:30, 2 min 0 s."
