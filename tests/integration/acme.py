"""The test company (Acme AB): its description, and the mail and SMS servers its
voicemail reaches. Shared by the tests with Python phones and with baresip softphones."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.integration.peers import free_sip_port, vaxel_cli
from vaxel.services import voicemail
from vaxel.store import Store

DOMAIN = "acme.vaxel.test"
MAIN = "+46812345600"
PASSWORDS = {"1001": "anna-secret-1", "1002": "bjorn-secret-2", "1003": "cecilia-secret-3"}

DESCRIPTION = """
company: {{domain: {domain}, name: Acme AB, language: en}}
users:
  - {{ext: "1001", name: Anna Svensson, password: anna-secret-1, direct_number: "08-123 456 01",
     mobile: "070-174 06 10", caller_id: {{show: direct, per_device: {{mobile: mobile}}}},
     admin: true}}
  - {{ext: "1002", name: Björn Karlsson, password: bjorn-secret-2}}
  - {{ext: "1003", name: Cecilia Lind, password: cecilia-secret-3, ring_time: 5}}
numbers:
  - {{number: "08-123 456 00", flow: main}}
prompts:
  welcome: {{text: "Welcome to Acme.", language: en, number: 1}}
  menu: {{text: "For sales, press 1. For Cecilia, press 2.", language: en}}
  closed: {{text: "We are closed today.", language: en}}
flows:
  main:
    schedule: office
    welcome: welcome
    menu: main
    closed: {{prompt: closed, destination: {{voicemail: reception}}}}
menus:
  main:
    prompt: menu
    keys: {{"1": {{group: sales}}, "2": {{user: "1003"}}, "3": {{group: support}},
           "4": {{group: queue}}, "5": {{group: line}}, "9": {{voicemail: reception}}}}
    default: {{voicemail: reception}}
schedules:
  office:
    weekly: {{{weekly}}}
groups:
  sales: {{members: ["1002", "1003"], strategy: sequential, ring_time: 5,
           overflow: {{voicemail: reception}}}}
  support: {{members: ["1002", "1003"], strategy: parallel, ring_time: 10,
             overflow: {{voicemail: reception}}}}
  queue: {{members: ["1002"], ring_time: 5, overflow: {{voicemail: reception}},
           queue: {{announcement: welcome, announce_every: 5, max_wait: 12}}}}
  line: {{members: ["1002"], ring_time: 30, overflow: {{voicemail: reception}},
          queue: {{announce_every: 20, max_wait: 30}}}}
voicemail:
  reception: {{members: ["1001"], email: [reception@acme.test], sms: ["+46701740699"]}}
trunks:
  carrier: {{host: 127.0.0.1, port: {trunk}}}
devices: {{mobile: ["Vaxel Mobile"]}}
mail: {{host: 127.0.0.1, port: {smtp}, sender: voicemail@acme.test}}
sms: {{url_template: "http://127.0.0.1:{sms}/send?to={{to}}&text={{text}}"}}
"""
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WORKDAYS = ", ".join(f'{day}: ["08:00-17:00"]' for day in DAYS[:5])
ALWAYS = ", ".join(f'{day}: ["00:00-24:00"]' for day in DAYS)


class SmsGateway(ThreadingHTTPServer):
    """The provider's SMS gateway: remembers every request's path, and the (to, text) of
    each that names them."""

    def __init__(self) -> None:
        received: list[str] = []
        texts: list[tuple[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                received.append(self.path)
                query = parse_qs(urlsplit(self.path).query)
                if "to" in query and "text" in query:
                    texts.append((query["to"][0], query["text"][0]))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.received = received
        self.texts = texts
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


SMS_GATEWAY = SmsGateway()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self.messages.append(envelope.content)
        return "250 OK"


def company(
    tmp: Path, weekly: str, smtp_port: int, description: str = DESCRIPTION
) -> tuple[Path, int]:
    """Apply the description (or a variant of it); returns the data folder and the trunk's
    port."""
    data, trunk = tmp / "data", free_sip_port()  # a baresip may be the carrier
    text = description.format(
        domain=DOMAIN, weekly=weekly, trunk=trunk, smtp=smtp_port, sms=SMS_GATEWAY.port
    )
    (tmp / "acme.yaml").write_text(text)
    result = vaxel_cli(data, "config", "apply", str(tmp / "acme.yaml"))
    assert result.returncode == 0, result.stderr
    return data, trunk


def wait_messages(
    data: Path, box: str, count: int, timeout: float = 10.0
) -> list[voicemail.Message]:
    """The box's messages once it holds `count` (Acme is the data folder's first company).

    The switch stores a message's row after it closed the recording, so a message listed
    here is a complete file; the row is written behind the call, hence the wait."""
    deadline = time.monotonic() + timeout
    while True:
        with Store.open(data) as store:
            messages = voicemail.list_messages(store, 1, box)
        if len(messages) >= count or time.monotonic() > deadline:
            return messages
        time.sleep(0.1)


def wait_mail(mailbox: Mailbox, count: int, timeout: float = 10.0) -> bytes:
    """The newest mail once `count` have arrived; fails if they do not in time."""
    deadline = time.monotonic() + timeout
    while len(mailbox.messages) < count:
        assert time.monotonic() < deadline, f"{len(mailbox.messages)} mails, not {count}"
        time.sleep(0.05)
    return mailbox.messages[-1]
