"""Digest authentication of requests that cost money or bind devices (REGISTER, INVITE).

Every way of failing looks the same from outside: an unknown company, an
unknown user and a wrong password all get a fresh challenge after the
same work (a fake HA1 for users that don't exist), so extensions cannot
be enumerated (Asterisk's alwaysauthreject). A source that keeps failing
is refused for a while, which stops password guessing (svcrack).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from vaxel.services.users import SipUser
from vaxel.sip.digest import Credentials, DigestServer, Verdict, parse_credentials
from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.message import Request, Response, make_response

# __init__s are written out: mypyc compiles them, not the dataclass-generated ones.

UserLookup = Callable[[str, str], SipUser | None]


@dataclass(slots=True)
class _Failures:
    count: int
    window_start: float
    blocked_until: float = 0.0

    def __init__(self, count: int, window_start: float, blocked_until: float = 0.0) -> None:
        self.count = count
        self.window_start = window_start
        self.blocked_until = blocked_until


class FailureLimiter:
    """Counts authentication failures per source address and blocks noisy ones."""

    def __init__(
        self, max_failures: int = 20, window: float = 60.0, block: float = 600.0, size: int = 65536
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.block = block
        self._size = size
        self._by_source: OrderedDict[str, _Failures] = OrderedDict()

    def blocked(self, source: str, now: float) -> bool:
        entry = self._by_source.get(source)
        return entry is not None and entry.blocked_until > now

    def failed(self, source: str, now: float) -> None:
        entry = self._by_source.get(source)
        if entry is None or now - entry.window_start > self.window:
            entry = _Failures(0, now, entry.blocked_until if entry else 0.0)
            self._by_source[source] = entry
        self._by_source.move_to_end(source)
        entry.count += 1
        if entry.count >= self.max_failures:
            entry.blocked_until = now + self.block
            entry.count = 0
            entry.window_start = now
        while len(self._by_source) > self._size:
            self._by_source.popitem(last=False)


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
        self, request: Request, realm: str, source_host: str, now: float, *, proxy: bool = False
    ) -> AuthResult:
        """Check the request's credentials for `realm` (the company's SIP domain).

        `proxy` selects 407/Proxy-Authenticate (INVITE and other requests to
        the switch acting for the callee) instead of 401/WWW-Authenticate.
        """
        header = "Proxy-Authorization" if proxy else "Authorization"
        credentials = self._credentials_for(request, header, realm)
        if credentials is None:
            return AuthResult(None, self.challenge(request, realm, now, proxy=proxy))
        user = self.lookup(realm, credentials.username)
        ha1 = self._ha1(user, credentials, realm)
        verdict = self.digest.verify(
            credentials, method=request.method, ha1=ha1, realm=realm, now=now
        )
        if verdict is Verdict.OK and user is not None and self._identity_matches(request, user):
            return AuthResult(user, None)
        if verdict is Verdict.STALE:
            return AuthResult(None, self.challenge(request, realm, now, proxy=proxy, stale=True))
        self.limiter.failed(source_host, now)
        return AuthResult(None, self.challenge(request, realm, now, proxy=proxy))

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

    def _ha1(self, user: SipUser | None, credentials: Credentials, realm: str) -> str:
        algorithm = credentials.algorithm.upper().removesuffix("-SESS")
        algorithm = "SHA-256" if algorithm == "SHA-256" else "MD5"
        if user is not None:
            return user.ha1[algorithm]
        return self.digest.fake_ha1(credentials.username, realm, algorithm)

    @staticmethod
    def _identity_matches(request: Request, user: SipUser) -> bool:
        """The authenticated user may only act as itself (REGISTER To, INVITE From)."""
        aor = request.to.uri if request.method == "REGISTER" else request.from_.uri
        return getattr(aor, "user", None) == user.extension

    def challenge(
        self, request: Request, realm: str, now: float, *, proxy: bool, stale: bool = False
    ) -> Response:
        """A 401 (or, with `proxy`, 407) carrying a fresh nonce for each algorithm."""
        status = 407 if proxy else 401
        response = make_response(request, status)
        name = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
        for value in self.digest.challenge(realm, now, stale=stale):
            response.headers.add(name, value)
        return response
