"""Web Push to the users' installed web app (U1, U3; RFC 8030, RFC 8291, RFC 8292).

A browser that lets the softphone notify subscribes with its push service and gives the
switch its subscription: an endpoint URL at that service and two keys. The switch then
sends that endpoint a message, encrypted for the browser alone (RFC 8291, aes128gcm, with
`http_ece`), signed with the switch's VAPID key (RFC 8292, with `py_vapid`), for an
incoming call, a missed call and a new voicemail. The service wakes the app's service
worker, which shows the notification even when no tab of it is open.

The endpoint is a URL the browser chose. The switch sends only to push services it knows
(`PUSH_SERVICES`, the browsers' own: Google's, Mozilla's, Apple's, Microsoft's), plus the
origins a provider names in the environment variable `VAXEL_PUSH_SERVICES` (its own push
relay, or a test's). Any other endpoint is refused when it is subscribed, redirects are
never followed, and a service that says the subscription is gone (404, 410) has it
deleted. The VAPID key is made on first use in the data folder (`push/vapid.pem`, only
the switch's user may read it); its public half is what the browser subscribes with.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import http_ece  # type: ignore[import-untyped]  # (no stubs published)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02  # type: ignore[import-untyped]
from sqlalchemy import delete, func, select

from vaxel.services.errors import Invalid, NotFound
from vaxel.store.database import Store
from vaxel.store.models import PushSubscription
from vaxel.transport.certificates import write_private_key

log = logging.getLogger(__name__)

#: The browsers' push services (the origins their subscriptions' endpoints have).
PUSH_SERVICES = (
    "https://fcm.googleapis.com",  # Chrome, Edge on Android, most Chromium browsers
    "https://updates.push.services.mozilla.com",  # Firefox
    "https://web.push.apple.com",  # Safari
)
#: Suffixes of hosts that are push services too (Microsoft's are per region).
PUSH_HOST_SUFFIXES = (".notify.windows.com",)
ENVIRONMENT = "VAXEL_PUSH_SERVICES"  # more origins, comma-separated: "https://push.example"
MAX_PER_USER = 10  # a user's browsers; the oldest subscription makes room for a new one
MAX_ENDPOINT = 2048
TIMEOUT = 10.0  # seconds for one delivery
CONTACT = "mailto:push@vaxel.invalid"  # VAPID's `sub`: who runs this sender


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed(endpoint: str) -> bool:
    """Is `endpoint` at a push service the switch may send to?"""
    parts = urlsplit(endpoint)
    if parts.username or parts.password or not parts.hostname:
        return False
    extra = [o.strip().lower().rstrip("/") for o in os.environ.get(ENVIRONMENT, "").split(",")]
    if _origin(endpoint) in (*PUSH_SERVICES, *(o for o in extra if o)):
        return True
    return (
        parts.scheme == "https"
        and parts.port in (None, 443)
        and (parts.hostname.endswith(PUSH_HOST_SUFFIXES))
    )


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


class Vapid:
    """The switch's VAPID key: made once, kept in the data folder."""

    def __init__(self, data: Path) -> None:
        path = data / "push" / "vapid.pem"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_private_key(path, ec.generate_private_key(ec.SECP256R1()))
        self._vapid = Vapid02.from_pem(path.read_bytes())
        public = self._vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.public_key = _b64url(public)  # the browser's applicationServerKey

    def headers(self, endpoint: str) -> dict[str, str]:
        claims = {"aud": _origin(endpoint), "sub": CONTACT, "exp": int(time.time()) + 12 * 3600}
        return dict(self._vapid.sign(claims))


@functools.cache
def vapid(data: Path) -> Vapid:
    """The VAPID key of the data folder `data`, read (or made) once per process."""
    return Vapid(data)


def subscribe(
    store: Store, company_id: int, extension: str, endpoint: str, p256dh: str, auth: str
) -> None:
    """Keep a browser's subscription for the user (the same endpoint again: its new keys)."""
    if len(endpoint) > MAX_ENDPOINT or not allowed(endpoint):
        raise Invalid("endpoint: not a push service this switch sends to")
    try:
        point = _unb64url(p256dh)
        secret = _unb64url(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, binascii.Error):
        raise Invalid("keys.p256dh: not a P-256 public key") from None
    if len(secret) != 16:
        raise Invalid("keys.auth: must be 16 octets, base64url")
    with store.session() as session:
        session.execute(delete(PushSubscription).where(PushSubscription.endpoint == endpoint))
        kept = session.scalars(
            select(PushSubscription.id)
            .where(PushSubscription.company_id == company_id, PushSubscription.owner == extension)
            .order_by(PushSubscription.id.desc())
        ).all()
        if len(kept) >= MAX_PER_USER:
            old = kept[MAX_PER_USER - 1 :]
            session.execute(delete(PushSubscription).where(PushSubscription.id.in_(old)))
        session.add(
            PushSubscription(
                company_id=company_id, owner=extension, endpoint=endpoint, p256dh=p256dh, auth=auth
            )
        )


def unsubscribe(store: Store, company_id: int, extension: str, endpoint: str) -> None:
    with store.session() as session:
        gone = session.execute(
            delete(PushSubscription).where(
                PushSubscription.company_id == company_id,
                PushSubscription.owner == extension,
                PushSubscription.endpoint == endpoint,
            )
        )
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise NotFound("no such subscription of yours")


def subscriptions(store: Store, company_id: int, extension: str) -> list[Subscription]:
    query = select(PushSubscription.endpoint, PushSubscription.p256dh, PushSubscription.auth)
    query = query.where(
        PushSubscription.company_id == company_id, PushSubscription.owner == extension
    )
    with store.session(read_only=True) as session:
        return [Subscription(*row) for row in session.execute(query)]


def companies_subscribed(store: Store) -> set[int]:
    """The companies with at least one subscription (whose live events the web must see)."""
    query = select(PushSubscription.company_id).group_by(PushSubscription.company_id)
    with store.session(read_only=True) as session:
        return set(session.scalars(query))


def count(store: Store, company_id: int, extension: str) -> int:
    query = select(func.count()).where(
        PushSubscription.company_id == company_id, PushSubscription.owner == extension
    )
    with store.session(read_only=True) as session:
        return int(session.scalar(query) or 0)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a push service that redirects gets nothing more


_opener = urllib.request.build_opener(_NoRedirects)


def deliver(
    store: Store,
    vapid: Vapid,
    subscription: Subscription,
    message: dict[str, object],
    *,
    ttl: int,
    urgency: str = "normal",
) -> int:
    """Encrypt `message` (JSON) for the browser and post it to its push service (blocking:
    call it off the loop). Returns the service's status; 404 and 410 delete the
    subscription. Raises OSError when the service cannot be reached."""
    if not allowed(subscription.endpoint):  # the list may have changed since it was kept
        return 0
    body = http_ece.encrypt(
        json.dumps(message).encode(),
        salt=os.urandom(16),
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=_unb64url(subscription.p256dh),
        auth_secret=_unb64url(subscription.auth),
        version="aes128gcm",
    )
    headers = {
        **vapid.headers(subscription.endpoint),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(ttl),
        "Urgency": urgency,
    }
    request = urllib.request.Request(subscription.endpoint, body, headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        status = error.code
    if status in (404, 410):
        with store.session() as session:
            session.execute(
                delete(PushSubscription).where(PushSubscription.endpoint == subscription.endpoint)
            )
    elif status >= 300:
        log.info("push service answered %d for a subscription", status)
    return status
