"""services/web_push on SQLite and PostgreSQL (U1, O2): only known push services are taken,
keys are checked, a user keeps at most ten browsers, and nobody removes another's."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from vaxel.services import companies, web_push
from vaxel.services.errors import Invalid, NotFound
from vaxel.store import Store


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


P256DH = b64url(
    ec.generate_private_key(ec.SECP256R1())
    .public_key()
    .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
)
AUTH = b64url(os.urandom(16))
FCM = "https://fcm.googleapis.com/fcm/send/abc:def"


@pytest.mark.parametrize(
    ("endpoint", "taken"),
    [
        (FCM, True),
        ("https://updates.push.services.mozilla.com/wpush/v2/gAAA", True),
        ("https://web.push.apple.com/QGz", True),
        ("https://db5p.notify.windows.com/w/?token=x", True),
        ("http://fcm.googleapis.com/fcm/send/x", False),  # not over TLS
        ("https://fcm.googleapis.com.evil.example/x", False),
        ("https://user:pw@fcm.googleapis.com/x", False),
        ("https://notify.windows.com.evil.example/x", False),
        ("https://127.0.0.1/x", False),
        ("file:///etc/passwd", False),
    ],
)
def test_only_known_push_services_are_taken(endpoint: str, taken: bool) -> None:
    assert web_push.allowed(endpoint) is taken


def test_a_provider_names_its_own_push_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(web_push.ENVIRONMENT, "https://push.example.net, http://127.0.0.1:8123")
    assert web_push.allowed("https://push.example.net/sub/1")
    assert web_push.allowed("http://127.0.0.1:8123/sub/1")
    assert not web_push.allowed("http://127.0.0.1:8124/sub/1")


def test_subscriptions_are_kept_checked_and_capped(store: Store) -> None:
    company = companies.add_company(store, "acme.example", "Acme").id
    with pytest.raises(Invalid, match="push service"):
        web_push.subscribe(store, company, "1001", "https://evil.example/x", P256DH, AUTH)
    with pytest.raises(Invalid, match="p256dh"):
        web_push.subscribe(store, company, "1001", FCM, b64url(b"\x04" + b"\x01" * 64), AUTH)
    with pytest.raises(Invalid, match="auth"):
        web_push.subscribe(store, company, "1001", FCM, P256DH, b64url(b"short"))
    for n in range(web_push.MAX_PER_USER + 2):
        web_push.subscribe(store, company, "1001", f"{FCM}{n}", P256DH, AUTH)
    kept = web_push.subscriptions(store, company, "1001")
    assert len(kept) == web_push.MAX_PER_USER
    assert f"{FCM}0" not in {s.endpoint for s in kept}  # the oldest made room
    web_push.subscribe(store, company, "1001", f"{FCM}11", P256DH, AUTH)  # again: kept once
    assert web_push.count(store, company, "1001") == web_push.MAX_PER_USER
    with pytest.raises(NotFound):
        web_push.unsubscribe(store, company, "1002", f"{FCM}11")  # not Björn's
    web_push.unsubscribe(store, company, "1001", f"{FCM}11")
    assert web_push.count(store, company, "1001") == web_push.MAX_PER_USER - 1
    assert web_push.companies_subscribed(store) == {company}


def test_the_vapid_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = web_push.Vapid(tmp_path)
    assert web_push.Vapid(tmp_path).public_key == first.public_key
    assert (tmp_path / "push" / "vapid.pem").stat().st_mode & 0o077 == 0
    headers = first.headers("https://fcm.googleapis.com/fcm/send/x")
    assert headers["Authorization"].startswith("vapid t=")
