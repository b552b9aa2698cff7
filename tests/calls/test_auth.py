"""calls/auth: digest checks of requests, identical failures, and the failure limiter."""

from __future__ import annotations

from vaxel.calls.auth import Authenticator, FailureLimiter
from vaxel.services.users import SipUser
from vaxel.sip.digest import DigestClient, DigestServer, ha1
from vaxel.sip.message import Request, parse_message

REALM = "acme.example"
ANNA = SipUser(
    1, REALM, 7, "1001", "Anna", {a: ha1("1001", REALM, "anna-pass", a) for a in ("MD5", "SHA-256")}
)


def _lookup(domain: str, extension: str) -> SipUser | None:
    return ANNA if (domain, extension) == (REALM, "1001") else None


def _register(user: str = "1001", authorization: str | None = None, branch: str = "1") -> Request:
    auth = f"Authorization: {authorization}\r\n" if authorization else ""
    message = parse_message(
        (
            f"REGISTER sip:{REALM} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{branch}\r\n"
            f"From: <sip:{user}@{REALM}>;tag=a\r\nTo: <sip:{user}@{REALM}>\r\n"
            f"Call-ID: c1\r\nCSeq: 1 REGISTER\r\n{auth}Content-Length: 0\r\n\r\n"
        ).encode()
    )
    assert isinstance(message, Request)
    return message


def _answer(auth: Authenticator, user: str, password: str, now: float) -> Request:
    challenge = auth.authenticate(_register(user), REALM, "192.0.2.1", now).response
    assert challenge is not None and challenge.status == 401
    value = DigestClient().authorization(
        challenge.headers.get("WWW-Authenticate") or "",
        method="REGISTER",
        uri=f"sip:{REALM}",
        username=user,
        password=password,
    )
    return _register(user, value, branch="2")


def test_right_password_authenticates() -> None:
    auth = Authenticator(DigestServer(b"k" * 32), _lookup)
    result = auth.authenticate(_answer(auth, "1001", "anna-pass", 100.0), REALM, "192.0.2.1", 100.0)
    assert result.user == ANNA and result.response is None


def test_failures_look_alike() -> None:
    auth = Authenticator(DigestServer(b"k" * 32, algorithms=("MD5",)), _lookup)
    wrong = auth.authenticate(_answer(auth, "1001", "bad-pass", 1.0), REALM, "192.0.2.1", 1.0)
    unknown = auth.authenticate(_answer(auth, "1077", "bad-pass", 1.0), REALM, "192.0.2.1", 1.0)
    for result in (wrong, unknown):
        assert result.user is None and result.response is not None
    assert wrong.response.status == unknown.response.status == 401  # type: ignore[union-attr]
    assert [n for n, _ in wrong.response.headers] == [n for n, _ in unknown.response.headers]  # type: ignore[union-attr]


def test_stale_nonce_is_rechallenged_with_stale_true() -> None:
    auth = Authenticator(DigestServer(b"k" * 32, nonce_ttl=30), _lookup)
    late = auth.authenticate(_answer(auth, "1001", "anna-pass", 0.0), REALM, "192.0.2.1", 100.0)
    assert late.response is not None and late.response.status == 401
    assert "stale=true" in (late.response.headers.get("WWW-Authenticate") or "").lower()
    assert not auth.limiter.blocked("192.0.2.1", 100.0)  # stale is no failure


def test_limiter_blocks_a_source_after_repeated_failures_then_forgives() -> None:
    limiter = FailureLimiter(max_failures=3, window=60, block=600)
    for t in (0.0, 1.0):
        limiter.failed("192.0.2.9", t)
    assert not limiter.blocked("192.0.2.9", 2.0)
    limiter.failed("192.0.2.9", 2.0)
    assert limiter.blocked("192.0.2.9", 3.0)
    assert not limiter.blocked("192.0.2.10", 3.0)  # other sources are unaffected
    assert not limiter.blocked("192.0.2.9", 603.0)


def test_limiter_window_restarts() -> None:
    limiter = FailureLimiter(max_failures=3, window=60, block=600)
    limiter.failed("a", 0.0)
    limiter.failed("a", 1.0)
    limiter.failed("a", 100.0)  # the old failures fell out of the window
    assert not limiter.blocked("a", 101.0)
