"""calls/auth (P2, O2): digest checks of requests, identical failures, and a failure limiter
that stops guessing without letting a forged source lock a device out."""

from __future__ import annotations

import hashlib
from functools import partial

from vaxel.calls.auth import Authenticator, AuthResult, FailureLimiter
from vaxel.services.companies import add_company
from vaxel.services.users import SipUser, add_user, browser_credential, find_sip_user
from vaxel.sip.digest import DigestClient, DigestServer, ha1
from vaxel.sip.headers import parse_auth_params
from vaxel.sip.message import Request, parse_message
from vaxel.store import Store
from vaxel.transport.base import Source

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


PHONE = Source("UDP", "192.0.2.1", 5060)


def _answer(
    auth: Authenticator, user: str, password: str, now: float, source: Source = PHONE
) -> Request:
    challenge = auth.authenticate(_register(user), REALM, source, now).response
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
    result = auth.authenticate(_answer(auth, "1001", "anna-pass", 100.0), REALM, PHONE, 100.0)
    assert result.user == ANNA and result.response is None


def test_failures_look_alike() -> None:
    auth = Authenticator(DigestServer(b"k" * 32, algorithms=("MD5",)), _lookup)
    wrong = auth.authenticate(_answer(auth, "1001", "bad-pass", 1.0), REALM, PHONE, 1.0)
    unknown = auth.authenticate(_answer(auth, "1077", "bad-pass", 1.0), REALM, PHONE, 1.0)
    for result in (wrong, unknown):
        assert result.user is None and result.response is not None
    assert wrong.response.status == unknown.response.status == 401  # type: ignore[union-attr]
    assert [n for n, _ in wrong.response.headers] == [n for n, _ in unknown.response.headers]  # type: ignore[union-attr]


def test_stale_nonce_is_rechallenged_with_stale_true() -> None:
    auth = Authenticator(DigestServer(b"k" * 32, nonce_ttl=30), _lookup)
    late = auth.authenticate(_answer(auth, "1001", "anna-pass", 0.0), REALM, PHONE, 100.0)
    assert late.response is not None and late.response.status == 401
    assert "stale=true" in (late.response.headers.get("WWW-Authenticate") or "").lower()
    assert not auth.limiter._pairs  # stale is no failure


# -- the failure limiter ------------------------------------------------------------------------

HOST, PORT, OTHER_PORT = "192.0.2.9", 5060, 40000
USER = "1001@acme.example"


def test_limiter_blocks_a_user_for_a_host_after_repeated_failures_then_forgives() -> None:
    limiter = FailureLimiter(max_failures=3, window=60, block=600)
    for t in (0.0, 1.0):
        limiter.failed(HOST, USER, t)
    assert not limiter.refused(HOST, PORT, USER, 2.0)
    limiter.failed(HOST, USER, 2.0)
    assert limiter.refused(HOST, PORT, USER, 3.0)
    assert limiter.refused(HOST, OTHER_PORT, USER, 3.0)  # a guesser may change ports
    assert not limiter.refused(HOST, PORT, "1002@acme.example", 3.0)  # a colleague behind the NAT
    assert not limiter.refused("192.0.2.10", PORT, USER, 3.0)  # other hosts are unaffected
    assert not limiter.silenced(HOST, PORT, 3.0)  # one user guessed at: no reason for silence
    assert not limiter.refused(HOST, PORT, USER, 603.0)


def test_limiter_window_restarts() -> None:
    limiter = FailureLimiter(max_failures=3, window=60, block=600)
    limiter.failed(HOST, USER, 0.0)
    limiter.failed(HOST, USER, 1.0)
    limiter.failed(HOST, USER, 100.0)  # the old failures fell out of the window
    assert not limiter.refused(HOST, PORT, USER, 101.0)


def test_a_host_trying_many_users_is_silenced() -> None:
    limiter = FailureLimiter(max_failures=20, max_users=5)
    for i in range(4):
        limiter.failed(HOST, f"10{i}@acme.example", float(i))
    assert not limiter.silenced(HOST, PORT, 4.0)
    limiter.failed(HOST, "104@acme.example", 4.0)
    assert limiter.silenced(HOST, PORT, 5.0) and limiter.silenced(HOST, OTHER_PORT, 5.0)
    assert not limiter.silenced("192.0.2.10", PORT, 5.0)
    assert not limiter.silenced(HOST, PORT, 605.0)


def test_a_host_that_keeps_guessing_a_blocked_user_is_silenced() -> None:
    limiter = FailureLimiter(max_failures=3)
    for t in range(3):
        limiter.failed(HOST, USER, float(t))
    for t in range(3, 5):
        assert limiter.refused(HOST, OTHER_PORT, USER, float(t))
    assert not limiter.silenced(HOST, OTHER_PORT, 5.0)
    assert limiter.refused(HOST, OTHER_PORT, USER, 5.0)  # the third attempt after the block
    assert limiter.silenced(HOST, OTHER_PORT, 6.0)


def test_a_device_that_authenticated_is_never_refused_or_silenced() -> None:
    """Someone at the device's host, or forging its very address, fails for its user and for
    many others: the device's own address keeps being heard and checked."""
    limiter = FailureLimiter(max_failures=3, max_users=3)
    limiter.succeeded(HOST, PORT, USER, 0.0)
    for t in range(10):
        limiter.failed(HOST, USER, 1.0 + t)
        limiter.refused(HOST, OTHER_PORT, USER, 1.0 + t)
    for i in range(5):
        limiter.failed(HOST, f"20{i}@acme.example", 20.0)
    assert limiter.silenced(HOST, OTHER_PORT, 21.0) and limiter.refused(HOST, OTHER_PORT, USER, 21)
    assert not limiter.silenced(HOST, PORT, 21.0)
    assert not limiter.refused(HOST, PORT, USER, 21.0)
    # The trust is the user's: the device's address gets no free guesses at a colleague.
    for t in range(3):
        limiter.failed(HOST, "1002@acme.example", 30.0 + t)
    assert limiter.refused(HOST, PORT, "1002@acme.example", 33.0)


def test_trust_lasts_while_the_device_keeps_authenticating() -> None:
    limiter = FailureLimiter(max_failures=1, trust=100.0)
    limiter.succeeded(HOST, PORT, USER, 0.0)
    limiter.failed(HOST, USER, 1.0)
    assert not limiter.refused(HOST, PORT, USER, 99.0)
    assert limiter.refused(HOST, PORT, USER, 100.0)  # not seen for the whole trust period
    limiter.succeeded(HOST, PORT, USER, 150.0)  # back, through the block: trusted again
    limiter.failed(HOST, USER, 151.0)
    assert not limiter.refused(HOST, PORT, USER, 200.0)


def test_a_success_forgives_earlier_typos_but_not_a_block() -> None:
    limiter = FailureLimiter(max_failures=3)
    limiter.failed(HOST, USER, 0.0)
    limiter.failed(HOST, USER, 1.0)
    limiter.succeeded(HOST, PORT, USER, 2.0)
    limiter.failed(HOST, USER, 3.0)
    assert not limiter.refused(HOST, OTHER_PORT, USER, 4.0)  # 1 failure since, not 3
    limiter.failed(HOST, USER, 5.0)
    limiter.failed(HOST, USER, 6.0)
    limiter.succeeded(HOST, PORT, USER, 7.0)  # the device, through the block
    assert limiter.refused(HOST, OTHER_PORT, USER, 8.0)  # the guesser is still blocked


def test_limiter_memory_is_bounded() -> None:
    limiter = FailureLimiter(max_failures=2, size=8)
    for i in range(1000):
        host = f"198.51.{i // 256}.{i % 256}"
        limiter.failed(host, USER, float(i))
        limiter.succeeded(host, i, USER, float(i))
        limiter.refused(host, i + 1, USER, float(i))
    tables = (limiter._pairs, limiter._hosts, limiter._trusted, limiter._trusted_addresses)
    assert all(len(table) <= 8 for table in tables)
    assert all(len(entry.users) <= limiter.max_users for entry in limiter._hosts.values())


# -- the Authenticator with the limiter -------------------------------------------------------


def test_answers_on_a_nonce_issued_to_another_host_are_no_failures() -> None:
    """A forger sends wrong passwords as if from the phone, with nonces it got at its own
    address: nothing counts, and the phone still gets in."""
    auth = Authenticator(DigestServer(b"k" * 32), _lookup, FailureLimiter(max_failures=3))
    forger = Source("UDP", "203.0.113.66", 5060)
    for t in range(10):
        forged = _answer(auth, "1001", "guess", float(t), source=forger)
        result = auth.authenticate(forged, REALM, PHONE, float(t))
        assert result.response is not None and result.response.status == 401
        assert "stale=true" in (result.response.headers.get("WWW-Authenticate") or "")
    assert not auth.limiter._pairs and not auth.limiter._hosts
    result = auth.authenticate(_answer(auth, "1001", "anna-pass", 20.0), REALM, PHONE, 20.0)
    assert result.user == ANNA


def test_a_blocked_user_learns_nothing_but_its_device_gets_in() -> None:
    auth = Authenticator(DigestServer(b"k" * 32), _lookup, FailureLimiter(max_failures=3))
    assert auth.authenticate(_answer(auth, "1001", "anna-pass", 0.0), REALM, PHONE, 0.0).user
    guesser = Source("UDP", PHONE.host, 40000)  # the same NAT, another port
    for t in range(3):
        auth.authenticate(_answer(auth, "1001", "guess", 1.0, guesser), REALM, guesser, 1.0 + t)
    right = auth.authenticate(_answer(auth, "1001", "anna-pass", 5.0, guesser), REALM, guesser, 5)
    assert right.user is None and right.response is not None
    assert right.response.status == 401  # as for a wrong password
    assert "stale" not in (right.response.headers.get("WWW-Authenticate") or "")
    # The phone, at the address it authenticated from, is checked as always.
    assert auth.authenticate(_answer(auth, "1001", "anna-pass", 6.0), REALM, PHONE, 6.0).user


# -- the browser softphone's credential (U1) -----------------------------------------------------


def _answer_with_ha1(challenge: str, username: str, secret: str, uri: str) -> str:
    """What JsSIP sends when it is given an HA1 instead of a password (MD5, qop=auth)."""
    _scheme, params = parse_auth_params(challenge)
    md5 = lambda text: hashlib.md5(text.encode()).hexdigest()  # noqa: E731
    nonce, cnonce, nc = params["nonce"], "abc", "00000001"
    response = md5(f"{secret}:{nonce}:{nc}:{cnonce}:auth:{md5(f'REGISTER:{uri}')}")
    return (
        f'Digest username="{username}", realm="{params["realm"]}", nonce="{nonce}", '
        f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc={nc}, '
        f'cnonce="{cnonce}"'
    )


def test_the_browser_credential_registers_as_the_users_extension(store: Store) -> None:
    """`1001-web` with the browser HA1 registers sip:1001 (the same user); the desk password
    does not open `1001-web`, and without a browser credential it fails like a wrong one
    (and like an unknown user's: same status, same headers)."""
    add_company(store, REALM, "Acme AB")
    added = add_user(store, REALM, "1001", "Anna", "anna-pass")
    lookup = partial(find_sip_user, store)  # the cache's own test shows it follows changes
    auth = Authenticator(DigestServer(b"k" * 32, algorithms=("MD5",)), lookup)

    def register(username: str, secret: str, now: float) -> AuthResult:
        challenge = auth.authenticate(_register("1001"), REALM, PHONE, now).response
        assert challenge is not None
        value = _answer_with_ha1(
            challenge.headers.get("WWW-Authenticate") or "", username, secret, f"sip:{REALM}"
        )
        return auth.authenticate(_register("1001", value, branch="2"), REALM, PHONE, now)

    desk_ha1 = ha1("1001", REALM, "anna-pass", "MD5")
    before = register("1001-web", desk_ha1, 1.0)  # no browser credential yet
    assert before.user is None and before.response is not None
    _user, _realm, web_ha1 = browser_credential(store, added.company_id, "1001")
    ok = register("1001-web", web_ha1, 2.0)
    assert ok.user is not None and (ok.user.user_id, ok.user.extension) == (added.id, "1001")
    assert register("1001-web", desk_ha1, 3.0).user is None  # the desk secret is not it
    assert register("1001", web_ha1, 4.0).user is None  # nor the browser's for the desk name
    assert register("1001", desk_ha1, 5.0).user is not None  # the desk phone is unaffected
    wrong = register("1001-web", "0" * 32, 6.0)
    unknown = register("1077-web", "0" * 32, 7.0)
    for failed in (wrong, unknown):
        assert failed.user is None and failed.response is not None
        assert failed.response.status == 401
        assert [n for n, _ in failed.response.headers] == [
            n
            for n, _ in before.response.headers  # type: ignore[union-attr]
        ]
