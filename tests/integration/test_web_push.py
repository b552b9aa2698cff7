"""Web Push (U1, U3; RFC 8030, 8291, 8292) from a real `vaxel serve` to a push service on
loopback (named in VAXEL_PUSH_SERVICES, as a provider names its own relay).

The "browser" is the test: it subscribes through the API with keys of its own, as
`PushSubscription.toJSON()` gives them, and decrypts what the push service received with
them (`http_ece`, the reference implementation's library). The calls are baresip's.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.integration.baresip import Baresip
from tests.integration.conftest import DOMAIN, USERS, provision
from tests.integration.peers import Server, vaxel_cli
from tests.integration.tone_rooms import ADMIN, WEB_PASSWORD, admin_api


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """A push service on loopback: keeps what it is sent (header names in lower case, as
    HTTP compares them); /gone/... answers 410."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.arrived = threading.Condition()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with service.arrived:
                    headers = {name.lower(): value for name, value in self.headers.items()}
                    service.received.append((self.path, headers, body))
                    service.arrived.notify_all()
                self.send_response(410 if self.path.startswith("/gone/") else 201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 15.0) -> list[tuple[str, dict[str, str], bytes]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class BrowserKeys:
    """A browser's subscription keys (RFC 8291 §3.2) and how it reads a message."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.keys = {"p256dh": b64url(point), "auth": b64url(self.auth)}

    def read(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth,
                                 version="aes128gcm")  # fmt: skip
        message: dict[str, Any] = json.loads(plain)
        return message


def check_vapid(authorization: str, public_key: str, audience: str) -> None:
    """RFC 8292: `vapid t=<JWT>, k=<key>`, the JWT signed (ES256) by that key, for us."""
    scheme, _, fields = authorization.partition(" ")
    values = dict(part.strip().split("=", 1) for part in fields.split(","))
    assert scheme == "vapid" and values["k"] == public_key
    header, claims, signature = values["t"].split(".")
    assert json.loads(unb64url(claims))["aud"] == audience
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key))
    key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if not


@pytest.fixture(scope="module")
def push_service() -> Iterator[PushService]:
    service = PushService()
    yield service
    service.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, push_service: PushService) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("push") / "data"
    provision(data)
    made = vaxel_cli(data, "company", "admin", DOMAIN, "--ext", ADMIN, "--password", WEB_PASSWORD)
    assert made.returncode == 0, made.stderr
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VAXEL_PUSH_SERVICES", push_service.origin)  # the switch inherits it
        srv = Server(data).start()
    yield srv
    srv.stop()


def phone(folder: Path, server: Server, ext: str, answermode: str = "auto") -> Baresip:
    started = Baresip(folder / ext, server, ext, USERS[ext][1], DOMAIN, answermode=answermode)
    started.start()
    started.register()
    event = started.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
    assert event is not None and event["type"] == "REGISTER_OK", started.log_text()
    return started


def test_a_browser_is_woken_for_an_incoming_call_and_told_it_was_missed(
    tmp_path: Path, server: Server, push_service: PushService
) -> None:
    browser = BrowserKeys()
    endpoint = f"{push_service.origin}/wake/anna-laptop"
    with admin_api(server, DOMAIN) as api:
        settings = api.get("/api/v1/me/push")
        assert settings.status_code == 200, settings.text
        public_key = settings.json()["public_key"]
        assert len(unb64url(public_key)) == 65  # an uncompressed P-256 point
        # An endpoint that is not a push service the switch knows is never contacted.
        stranger = {"endpoint": "http://127.0.0.1:9/steal", "keys": browser.keys}
        refused = api.post("/api/v1/me/push/subscriptions", json=stranger)
        assert refused.status_code == 422 and "push service" in refused.json()["detail"]
        mine = {"endpoint": endpoint, "keys": browser.keys}
        assert api.post("/api/v1/me/push/subscriptions", json=mine).status_code == 204
        assert api.get("/api/v1/me/push").json()["subscriptions"] == 1
    anna = phone(tmp_path, server, "1001", answermode="manual")  # rings, nobody answers
    bjorn = phone(tmp_path, server, "1002")
    try:
        before = len(push_service.received)
        bjorn.dial(f"sip:1001@{DOMAIN}")
        assert anna.event({"CALL_INCOMING"}, timeout=15) is not None, anna.log_text()
        path, headers, body = push_service.wait(before + 1)[before]
        assert path == "/wake/anna-laptop"
        assert headers["content-encoding"] == "aes128gcm" and headers["urgency"] == "high"
        assert headers["ttl"] == "60"
        check_vapid(headers["authorization"], public_key, push_service.origin)
        call = browser.read(body)
        assert call["kind"] == "call" and call["from"] == "1002", call
        assert call["name"] == USERS["1002"][0]
        bjorn.hangup()
        received = push_service.wait(before + 2)
        assert len(received) == before + 2, received
        missed = browser.read(received[before + 1][2])
        assert missed["kind"] == "missed" and missed["call"] == call["call"], missed
    finally:
        anna.stop()
        bjorn.stop()


def test_a_subscription_the_push_service_says_is_gone_is_dropped(
    tmp_path: Path, server: Server, push_service: PushService
) -> None:
    browser = BrowserKeys()
    with admin_api(server, DOMAIN) as api:
        gone = {"endpoint": f"{push_service.origin}/gone/old-phone", "keys": browser.keys}
        assert api.post("/api/v1/me/push/subscriptions", json=gone).status_code == 204
        subscribed = api.get("/api/v1/me/push").json()["subscriptions"]
        before = len(push_service.received)
        anna = phone(tmp_path, server, "1001", answermode="manual")
        bjorn = phone(tmp_path, server, "1002")
        try:
            bjorn.dial(f"sip:1001@{DOMAIN}")
            assert anna.event({"CALL_INCOMING"}, timeout=15) is not None, anna.log_text()
            push_service.wait(before + 1)
            bjorn.hangup()
        finally:
            anna.stop()
            bjorn.stop()
        deadline = time.monotonic() + 10  # deleted once the service answered 410
        while api.get("/api/v1/me/push").json()["subscriptions"] == subscribed:
            assert time.monotonic() < deadline, "the gone subscription was kept"
            time.sleep(0.05)
