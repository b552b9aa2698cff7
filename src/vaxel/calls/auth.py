"""Digest authentication of requests that cost money or bind devices (P2, O2).

P2 digest, O2 security. Every way of failing looks the same from outside: an
unknown company, an unknown user and a wrong password all get a fresh
challenge after the same work (a fake HA1 for users that don't exist), so
extensions cannot be enumerated (Asterisk's alwaysauthreject). A user's browser
softphone (U1) answers as `<extension>-web` with its own secret and acts as the
extension; one without a browser credential fails like any wrong password.

Password guessing (sipvicious svcrack) is stopped without giving anyone a
way to lock a device out, which a plain "block the source after N failures"
would: a UDP source address is easy to forge, so an attacker could have a
phone's own address blocked. `FailureLimiter` explains the rules; in short,
failures count per (host, user) and only with a nonce issued to that host,
and the exact address a user recently authenticated from is never refused.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vaxel.services.users import WEB_SUFFIX, SipUser
from vaxel.sip.digest import Credentials, DigestServer, Verdict, parse_credentials
from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.message import Request, Response, make_response
from vaxel.transport.base import Source

# __init__s are written out: mypyc compiles them, not the dataclass-generated ones.

UserLookup = Callable[[str, str], SipUser | None]

#: A registration lasts at most an hour (the registrar's max_expires), so a device in
#: use authenticates at least that often; two hours of trust survive one lost refresh.
TRUST = 7200.0


@dataclass(slots=True)
class _Failures:
    """Failures of one user from one host, in the current window."""

    count: int
    window_start: float
    blocked_until: float = 0.0

    def __init__(self, count: int, window_start: float, blocked_until: float = 0.0) -> None:
        self.count = count
        self.window_start = window_start
        self.blocked_until = blocked_until


@dataclass(slots=True)
class _HostFailures:
    """Which users failed from one host, and its attempts at users blocked for it."""

    users: set[str]
    strikes: int
    window_start: float
    blocked_until: float = 0.0

    def __init__(
        self, users: set[str], strikes: int, window_start: float, blocked_until: float = 0.0
    ) -> None:
        self.users = users
        self.strikes = strikes
        self.window_start = window_start
        self.blocked_until = blocked_until


class FailureLimiter:
    """Stops password guessing without letting anyone lock out a device that knows its password.

    The rules, and the attacker each one answers:

    * A failure counts only when the answer used a nonce issued to the host
      it came from (`DigestServer` binds nonces to the client's host, and
      the Authenticator counts no FOREIGN verdict). Someone forging a
      phone's address from elsewhere never sees a nonce for that host, so
      produces no failure at all.
    * Failures count per (host, user). After `max_failures` within
      `window` seconds, that user's password is no longer checked for that
      host for `block` seconds: every attempt gets a challenge, right or
      wrong, so guessing learns nothing (svcrack finds no password). Other
      users at the same host (an office behind one NAT) are unaffected.
    * A host that fails for `max_users` different users within the window
      (trying many extensions), or keeps trying users already blocked for
      it (`max_failures` attempts more), is `silenced`: the switch drops
      its requests unread for `block` seconds.
    * The exact address (host and port) that a user authenticated from in
      the last `trust` seconds is exempt from all of this: that device is
      always heard and its password always checked. An attacker who forges
      that very address cannot read the answers (they go to the device), so
      the exemption gives nobody unlimited guesses; one who can read them is
      on the device's path and could crack a captured exchange offline
      anyway. An attacker at another port of the same host (the office NAT,
      carrier-grade NAT) is not exempt.

    What remains: someone who really receives at a host can keep a user
    blocked there, so a device of that user that has not authenticated from
    its address within `trust` (a new phone, a TCP phone after reconnecting)
    waits until the block ends. That attacker is then a real guesser being
    stopped. Memory is bounded: every table is an LRU of at most `size`.
    """

    def __init__(
        self,
        max_failures: int = 20,
        window: float = 60.0,
        block: float = 600.0,
        size: int = 65536,
        *,
        max_users: int = 10,
        trust: float = TRUST,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.block = block
        self.max_users = max_users
        self.trust = trust
        self._size = size
        self._pairs: OrderedDict[tuple[str, str], _Failures] = OrderedDict()
        self._hosts: OrderedDict[str, _HostFailures] = OrderedDict()
        # When each (host, port, user) and each (host, port) last authenticated.
        self._trusted: OrderedDict[tuple[str, int, str], float] = OrderedDict()
        self._trusted_addresses: OrderedDict[tuple[str, int], float] = OrderedDict()

    def silenced(self, host: str, port: int, now: float) -> bool:
        """Should the switch drop this address's requests unread? (It asks before parsing.)"""
        entry = self._hosts.get(host)
        if entry is None or entry.blocked_until <= now:
            return False
        seen = self._trusted_addresses.get((host, port))
        return seen is None or now - seen >= self.trust

    def refused(self, host: str, port: int, user: str, now: float) -> bool:
        """Is `user` blocked for this host (its password not to be checked) at this address?

        A refusal is itself a strike against the host: a guesser that carries
        on after its user was blocked ends up silenced.
        """
        entry = self._pairs.get((host, user))
        if entry is None or entry.blocked_until <= now or self._trusts(host, port, user, now):
            return False
        self._pairs.move_to_end((host, user))
        self._host(host, now).strikes += 1
        self._check_host(host, now)
        return True

    def failed(self, host: str, user: str, now: float) -> None:
        """A wrong password for `user` (or an answer refused for its form, such as one without
        qop), on a nonce issued to `host`."""
        key = (host, user)
        entry = self._pairs.get(key)
        if entry is None or now - entry.window_start > self.window:
            entry = _Failures(0, now, entry.blocked_until if entry else 0.0)
            self._pairs[key] = entry
        self._pairs.move_to_end(key)
        entry.count += 1
        if entry.count >= self.max_failures:
            entry.blocked_until = now + self.block
            entry.count = 0
            entry.window_start = now
        _trim(self._pairs, self._size)
        users = self._host(host, now).users
        if len(users) < self.max_users:
            users.add(user)
        self._check_host(host, now)

    def succeeded(self, host: str, port: int, user: str, now: float) -> None:
        """`user` authenticated from this address: trust the address, and forget the user's
        earlier failures at this host (a typo or two), unless the user is blocked there."""
        self._trusted[(host, port, user)] = now
        self._trusted.move_to_end((host, port, user))
        _trim(self._trusted, self._size)
        self._trusted_addresses[(host, port)] = now
        self._trusted_addresses.move_to_end((host, port))
        _trim(self._trusted_addresses, self._size)
        entry = self._pairs.get((host, user))
        if entry is not None and entry.blocked_until <= now:
            del self._pairs[(host, user)]

    def _trusts(self, host: str, port: int, user: str, now: float) -> bool:
        seen = self._trusted.get((host, port, user))
        return seen is not None and now - seen < self.trust

    def _host(self, host: str, now: float) -> _HostFailures:
        entry = self._hosts.get(host)
        if entry is None or now - entry.window_start > self.window:
            blocked_until = entry.blocked_until if entry is not None else 0.0
            entry = _HostFailures(set(), 0, now, blocked_until)
            self._hosts[host] = entry
        self._hosts.move_to_end(host)
        _trim(self._hosts, self._size)
        return entry

    def _check_host(self, host: str, now: float) -> None:
        entry = self._hosts.get(host)
        if entry is None:
            return
        if len(entry.users) >= self.max_users or entry.strikes >= self.max_failures:
            entry.blocked_until = now + self.block
            entry.users = set()
            entry.strikes = 0
            entry.window_start = now


def _trim(table: OrderedDict[Any, Any], size: int) -> None:
    """Forget the least recently touched entries beyond `size`."""
    while len(table) > size:
        table.popitem(last=False)


@dataclass(frozen=True, slots=True)
class AuthResult:
    """Either the authenticated user, or the response to send instead."""

    user: SipUser | None
    response: Response | None

    def __init__(self, user: SipUser | None, response: Response | None) -> None:
        object.__setattr__(self, "user", user)
        object.__setattr__(self, "response", response)


class Authenticator:
    def __init__(
        self, digest: DigestServer, lookup: UserLookup, limiter: FailureLimiter | None = None
    ) -> None:
        self.digest = digest
        self.lookup = lookup
        self.limiter = limiter or FailureLimiter()

    def authenticate(
        self, request: Request, realm: str, source: Source, now: float, *, proxy: bool = False
    ) -> AuthResult:
        """Check the request's credentials for `realm` (the company's SIP domain).

        `source` is where the request came from as the socket saw it: nonces
        are bound to its host, and the limiter counts by it. `proxy` selects
        407/Proxy-Authenticate (INVITE and other requests to the switch
        acting for the callee) instead of 401/WWW-Authenticate.
        """
        header = "Proxy-Authorization" if proxy else "Authorization"
        credentials = self._credentials_for(request, header, realm)
        if credentials is None:
            return AuthResult(None, self.challenge(request, realm, source, now, proxy=proxy))
        host = source.host
        name = f"{credentials.username}@{realm}"
        if self.limiter.refused(host, source.port, name, now):
            # The same challenge a wrong password gets: guessing here learns nothing.
            return AuthResult(None, self.challenge(request, realm, source, now, proxy=proxy))
        # U1: "<ext>-web" is the user's browser softphone, with a secret of its own.
        browser = credentials.username.endswith(WEB_SUFFIX)
        user = self.lookup(realm, credentials.username.removesuffix(WEB_SUFFIX))
        ha1 = self._ha1(user, credentials, realm, browser)
        verdict = self.digest.verify(
            credentials, method=request.method, ha1=ha1, realm=realm, now=now, client=host
        )
        if verdict is Verdict.OK and user is not None and self._identity_matches(request, user):
            self.limiter.succeeded(host, source.port, name, now)
            return AuthResult(user, None)
        if verdict is Verdict.STALE or verdict is Verdict.FOREIGN:
            challenge = self.challenge(request, realm, source, now, proxy=proxy, stale=True)
            return AuthResult(None, challenge)
        self.limiter.failed(host, name, now)
        return AuthResult(None, self.challenge(request, realm, source, now, proxy=proxy))

    def _credentials_for(self, request: Request, header: str, realm: str) -> Credentials | None:
        for value in request.headers.get_all(header):
            if not value.lower().startswith("digest"):
                continue
            try:
                credentials = parse_credentials(value)
            except RemoteProtocolError:
                continue
            if credentials.realm.lower() == realm:
                return credentials
        return None

    def _ha1(
        self, user: SipUser | None, credentials: Credentials, realm: str, browser: bool
    ) -> str:
        """The user's HA1 for the answer's algorithm (the browser's for `<ext>-web`); a fake
        one, the same work, for an unknown user or a browser credential not made."""
        algorithm = credentials.algorithm.upper().removesuffix("-SESS")
        algorithm = "SHA-256" if algorithm == "SHA-256" else "MD5"
        secrets = None if user is None else user.web_ha1 if browser else user.ha1
        if secrets is not None:
            return secrets[algorithm]
        return self.digest.fake_ha1(credentials.username, realm, algorithm)

    @staticmethod
    def _identity_matches(request: Request, user: SipUser) -> bool:
        """The authenticated user may only act as itself (REGISTER To, INVITE From)."""
        aor = request.to.uri if request.method == "REGISTER" else request.from_.uri
        return getattr(aor, "user", None) == user.extension

    def challenge(
        self,
        request: Request,
        realm: str,
        source: Source,
        now: float,
        *,
        proxy: bool,
        stale: bool = False,
    ) -> Response:
        """A 401 (or, with `proxy`, 407) carrying a fresh nonce for each algorithm,
        bound to `source`'s host (the answer must come from there)."""
        status = 407 if proxy else 401
        response = make_response(request, status)
        name = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
        for value in self.digest.challenge(realm, now, client=source.host, stale=stale):
            response.headers.add(name, value)
        return response
