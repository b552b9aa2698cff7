"""SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760), sans-I/O (P2, O2).

The server side keeps no per-challenge state: a nonce carries its issue time
and a truncated HMAC over it, the realm and the address of the client it
was sent to, so any node that shares the secret can check it. Only nonces
that have been used are remembered, to refuse replayed nonce counts, and
that memory is bounded.

Two choices close ways around the failure limit and the replay check (O2):

* qop=auth is required. Without it (RFC 2069) an answer has no nonce count,
  so the same Authorization could be replayed for as long as its nonce
  lives. Every challenge offers qop="auth", and the clients in use answer
  with it when offered (baresip, SIPp, pjsua2, sipvicious, our own
  `DigestClient`); RFC 7616 makes qop mandatory. An answer without it is
  INVALID, whatever its password.
* A nonce answers only from the host it was issued to. A nonce from anywhere
  else (another host, another secret or realm, a forged one) is FOREIGN: the
  password is not judged, and the caller re-challenges without counting a
  failure. So failures that count against a host can only be produced by
  someone who receives at that host: forging a phone's source address from
  elsewhere cannot get it locked out.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import os
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.headers import parse_auth_params, quote_string

# __init__s are written out: mypyc compiles them, not the dataclass-generated ones.

__all__ = [
    "ALGORITHMS",
    "Credentials",
    "DigestClient",
    "DigestServer",
    "Verdict",
    "ha1",
    "parse_credentials",
]

_HASHES: dict[str, Callable[..., Any]] = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
# Upper-cased token -> canonical name; tokens are case-insensitive.
_CANONICAL = {name.upper(): name for name in _HASHES}
# RFC 8760: offer (and prefer) the strongest algorithm first.
_STRENGTH = {"MD5": 1, "SHA-256": 2}
_HEX_LEN = {"MD5": 32, "SHA-256": 64}
ALGORITHMS: tuple[str, ...] = ("SHA-256", "MD5")

_HEX = frozenset("0123456789abcdefABCDEF")
_TIME = struct.Struct(">d")
_RANDOM_LEN = 12
_MAC_LEN = 16  # 128 bits of HMAC-SHA-256 is plenty against forgery
_SIGNED_LEN = _TIME.size + _RANDOM_LEN
_NONCE_CHARS = (_SIGNED_LEN + _MAC_LEN) * 4 // 3  # 36 bytes -> 48 chars, no padding


def _canonical_algorithm(token: str) -> str:
    return _CANONICAL.get(token.upper(), token)


def _hex(hash_new: Callable[..., Any], text: str) -> str:
    digest: str = hash_new(text.encode()).hexdigest()
    return digest


def ha1(username: str, realm: str, password: str, algorithm: str = "MD5") -> str:
    """H(username:realm:password), the value a server stores instead of the password."""
    hash_new = _HASHES.get(_canonical_algorithm(algorithm))
    if hash_new is None:
        raise ValueError(f"unsupported digest algorithm: {algorithm!r}")
    return _hex(hash_new, f"{username}:{realm}:{password}")


@dataclass(frozen=True, slots=True)
class Credentials:
    """The digest-response of an Authorization or Proxy-Authorization header."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None
    opaque: str | None = None

    def __init__(
        self,
        username: str,
        realm: str,
        nonce: str,
        uri: str,
        response: str,
        algorithm: str = "MD5",
        qop: str | None = None,
        nc: str | None = None,
        cnonce: str | None = None,
        opaque: str | None = None,
    ) -> None:
        object.__setattr__(self, "username", username)
        object.__setattr__(self, "realm", realm)
        object.__setattr__(self, "nonce", nonce)
        object.__setattr__(self, "uri", uri)
        object.__setattr__(self, "response", response)
        object.__setattr__(self, "algorithm", algorithm)
        object.__setattr__(self, "qop", qop)
        object.__setattr__(self, "nc", nc)
        object.__setattr__(self, "cnonce", cnonce)
        object.__setattr__(self, "opaque", opaque)


def parse_credentials(value: str) -> Credentials:
    """Parse an Authorization / Proxy-Authorization value; malformed ones are the peer's 400."""
    scheme, params = parse_auth_params(value)
    if scheme.lower() != "digest":
        raise RemoteProtocolError(f"unsupported authorization scheme: {scheme!r}", 400)
    try:
        username = params["username"]
        realm = params["realm"]
        nonce = params["nonce"]
        uri = params["uri"]
        response = params["response"]
    except KeyError as exc:
        raise RemoteProtocolError(f"digest credentials without {exc.args[0]}", 400) from None
    if not nonce or not uri:
        raise RemoteProtocolError("digest credentials with an empty nonce or uri", 400)
    if not response or not _HEX.issuperset(response):
        raise RemoteProtocolError("digest response is not hexadecimal", 400)
    qop = params.get("qop")
    nc = params.get("nc")
    cnonce = params.get("cnonce")
    if qop is not None:
        qop = qop.lower()
        # RFC 7616 §3.4: a qop requires both a nonce count and a client nonce.
        if nc is None or cnonce is None:
            raise RemoteProtocolError("digest qop without nc or cnonce", 400)
        if len(nc) != 8 or not _HEX.issuperset(nc):
            raise RemoteProtocolError(f"bad digest nonce count: {nc!r}", 400)
    return Credentials(
        username=username,
        realm=realm,
        nonce=nonce,
        uri=uri,
        response=response.lower(),
        algorithm=_canonical_algorithm(params.get("algorithm", "MD5")),
        qop=qop,
        nc=nc,
        cnonce=cnonce,
        opaque=params.get("opaque"),
    )


class Verdict(enum.Enum):
    """The outcome of DigestServer.verify."""

    OK = "ok"
    STALE = "stale"  # right password, expired nonce: re-challenge with stale=true
    INVALID = "invalid"  # a wrong password (or an answer we refuse, such as no qop)
    REPLAY = "replay"
    # Not a nonce we issued to this client for this realm: the password was not judged,
    # so it is no failure. Re-challenge with stale=true whatever the password (RFC 7616
    # §3.3 sets it only for a valid digest; set always, it tells an attacker nothing and
    # lets a client whose address changed since the challenge retry without asking).
    FOREIGN = "foreign"


class DigestServer:
    """Issues challenges and checks credentials; `now` is any monotonic clock, in seconds."""

    def __init__(
        self,
        secret: bytes,
        *,
        nonce_ttl: float = 300.0,
        algorithms: tuple[str, ...] = ALGORITHMS,
        max_tracked_nonces: int = 100_000,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the digest secret needs at least 16 bytes")
        if nonce_ttl <= 0:
            raise ValueError("nonce_ttl must be positive")
        if max_tracked_nonces < 1:
            raise ValueError("max_tracked_nonces must be at least 1")
        if not algorithms:
            raise ValueError("at least one digest algorithm is needed")
        for name in algorithms:
            if name not in _HASHES:
                raise ValueError(f"unsupported digest algorithm: {name!r}")
        self._secret = secret
        self._ttl = nonce_ttl
        self._max = max_tracked_nonces
        self._mac = hmac.new(secret, digestmod=hashlib.sha256)
        # Nodes sharing the secret share the opaque value too.
        opaque = hmac.new(secret, b"vaxel digest opaque", hashlib.sha256).hexdigest()[:32]
        self._suffixes = tuple(
            f', opaque="{opaque}", algorithm={name}, qop="auth"' for name in algorithms
        )
        # Last accepted nonce count per nonce, and the nonces in the order they
        # were first tracked, for amortised forgetting.
        self._nc: dict[str, int] = {}
        self._order: deque[tuple[float, float, str]] = deque()
        # Untracked nonces issued at or before this time may have been forgotten
        # while still fresh, so their counts are unknown: they get STALE.
        self._forgotten_floor = float("-inf")

    @property
    def tracked_nonces(self) -> int:
        """How many nonces have a remembered nonce count (for metrics and tests)."""
        return len(self._nc)

    def challenge(
        self, realm: str, now: float, *, client: str = "", stale: bool = False
    ) -> list[str]:
        """WWW-Authenticate / Proxy-Authenticate values, strongest algorithm first.

        `client` is the host the challenge is sent to (the request's source, as
        the socket saw it); the answer must come from the same host.
        """
        nonce = self._make_nonce(realm, now, client)
        head = f'Digest realm={quote_string(realm)}, nonce="{nonce}"'
        tail = ", stale=true" if stale else ""
        return [head + suffix + tail for suffix in self._suffixes]

    def fake_ha1(self, username: str, realm: str, algorithm: str) -> str:
        """A stable HA1 for a user that doesn't exist, so it fails like a wrong password."""
        algorithm = _canonical_algorithm(algorithm)
        mac = self._mac.copy()
        mac.update(f"fake-ha1\0{algorithm}\0{realm}\0{username}".encode())
        return mac.hexdigest()[: _HEX_LEN.get(algorithm, 64)]

    def verify(
        self,
        creds: Credentials,
        *,
        method: str,
        ha1: str,
        realm: str,
        now: float,
        client: str = "",
    ) -> Verdict:
        """Check credentials against the stored lower-case hex HA1 for `creds.algorithm`.

        `client` is the host the answer came from. The expected response is
        always computed in full and compared in constant time, so a wrong
        password costs the same as a right one. FOREIGN comes first and does
        not depend on the password, so only a nonce issued to the asker's host
        can tell a right password from a wrong one (OK or STALE against
        INVALID), and only there do failures count.
        """
        hash_new = _HASHES.get(creds.algorithm)
        known_algorithm = hash_new is not None
        if hash_new is None:
            hash_new = hashlib.md5
        nonce = creds.nonce
        qop = creds.qop
        nc = creds.nc
        ha2 = _hex(hash_new, f"{method}:{creds.uri}")
        if qop is None:
            expected = _hex(hash_new, f"{ha1}:{nonce}:{ha2}")
        else:
            expected = _hex(hash_new, f"{ha1}:{nonce}:{nc}:{creds.cnonce}:{qop}:{ha2}")
        matched = hmac.compare_digest(expected.encode(), creds.response.encode())
        issued = self._nonce_issued(nonce, realm, client)
        if issued is None:
            return Verdict.FOREIGN
        if (
            not matched
            or not known_algorithm
            or creds.realm != realm
            or qop != "auth"  # required: without a nonce count, replays go unnoticed
            or nc is None
            or creds.cnonce is None
        ):
            return Verdict.INVALID
        expires = issued + self._ttl
        if now >= expires:
            return Verdict.STALE
        try:
            count = int(nc, 16)
        except ValueError:
            return Verdict.INVALID
        last = self._nc.get(nonce)
        if last is not None:
            if count <= last:
                return Verdict.REPLAY
            self._nc[nonce] = count
            return Verdict.OK
        if issued <= self._forgotten_floor:
            return Verdict.STALE
        if count < 1:
            return Verdict.INVALID  # counts start at 00000001
        self._track(nonce, count, issued, expires, now)
        return Verdict.OK

    def _make_nonce(self, realm: str, now: float, client: str) -> str:
        signed = _TIME.pack(now) + os.urandom(_RANDOM_LEN)
        mac = self._mac.copy()
        mac.update(signed)
        mac.update(f"{realm}\0{client}".encode())
        return base64.urlsafe_b64encode(signed + mac.digest()[:_MAC_LEN]).decode()

    def _nonce_issued(self, nonce: str, realm: str, client: str) -> float | None:
        """The issue time of a nonce we made for `realm` and `client`, or None if it is not."""
        if len(nonce) != _NONCE_CHARS:
            return None
        try:
            raw = base64.b64decode(nonce, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            return None
        mac = self._mac.copy()
        mac.update(raw[:_SIGNED_LEN])
        mac.update(f"{realm}\0{client}".encode())
        if not hmac.compare_digest(mac.digest()[:_MAC_LEN], raw[_SIGNED_LEN:]):
            return None
        issued: float = _TIME.unpack_from(raw)[0]
        return issued

    def _track(self, nonce: str, count: int, issued: float, expires: float, now: float) -> None:
        self._nc[nonce] = count
        order = self._order
        order.append((expires, issued, nonce))
        # Each nonce enters and leaves `order` once, so this is amortised O(1).
        while order and (order[0][0] <= now or len(self._nc) > self._max):
            old_expires, old_issued, old = order.popleft()
            del self._nc[old]
            if old_expires > now and old_issued > self._forgotten_floor:
                self._forgotten_floor = old_issued


class DigestClient:
    """Answers digest challenges (trunk registrations, tests), counting nc per nonce."""

    _MAX_NONCES = 64

    def __init__(self) -> None:
        self._nc: dict[str, int] = {}

    @staticmethod
    def choose_challenge(values: list[str]) -> str:
        """The Digest challenge with the strongest algorithm we support."""
        best: str | None = None
        best_strength = 0
        for value in values:
            scheme, params = parse_auth_params(value)
            if scheme.lower() != "digest":
                continue
            strength = _STRENGTH.get(_canonical_algorithm(params.get("algorithm", "MD5")), 0)
            if strength > best_strength:
                best, best_strength = value, strength
        if best is None:
            raise RemoteProtocolError("no digest challenge with a supported algorithm")
        return best

    def authorization(
        self,
        challenge: str,
        *,
        method: str,
        uri: str,
        username: str,
        password: str,
        cnonce: str | None = None,
        body: bytes = b"",
    ) -> str:
        """The Authorization / Proxy-Authorization value answering `challenge`."""
        scheme, params = parse_auth_params(challenge)
        if scheme.lower() != "digest":
            raise RemoteProtocolError(f"not a digest challenge: {scheme!r}")
        realm = params.get("realm")
        nonce = params.get("nonce")
        if realm is None or not nonce:
            raise RemoteProtocolError("digest challenge without realm or nonce")
        algorithm = _canonical_algorithm(params.get("algorithm", "MD5"))
        hash_new = _HASHES.get(algorithm)
        if hash_new is None:
            raise RemoteProtocolError(f"unsupported digest algorithm: {algorithm!r}")
        offered = {item.strip().lower() for item in params.get("qop", "").split(",")}
        if "auth" in offered:
            qop: str | None = "auth"
        elif "auth-int" in offered:
            qop = "auth-int"
        elif offered - {""}:
            raise RemoteProtocolError(f"unsupported digest qop: {params['qop']!r}")
        else:
            qop = None
        secret = ha1(username, realm, password, algorithm)
        if qop == "auth-int":
            ha2 = _hex(hash_new, f"{method}:{uri}:{hash_new(body).hexdigest()}")
        else:
            ha2 = _hex(hash_new, f"{method}:{uri}")
        parts = [
            f"Digest username={quote_string(username)}",
            f"realm={quote_string(realm)}",
            f"nonce={quote_string(nonce)}",
            f"uri={quote_string(uri)}",
        ]
        if qop is None:
            response = _hex(hash_new, f"{secret}:{nonce}:{ha2}")
            parts += [f'response="{response}"', f"algorithm={algorithm}"]
            qop_parts: list[str] = []
        else:
            nc = f"{self._next_count(nonce):08x}"
            if cnonce is None:
                cnonce = base64.urlsafe_b64encode(os.urandom(12)).decode()
            response = _hex(hash_new, f"{secret}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
            parts += [
                f'response="{response}"',
                f"algorithm={algorithm}",
                f"cnonce={quote_string(cnonce)}",
            ]
            qop_parts = [f"qop={qop}", f"nc={nc}"]
        if "opaque" in params:
            parts.append(f"opaque={quote_string(params['opaque'])}")
        parts += qop_parts
        return ", ".join(parts)

    def _next_count(self, nonce: str) -> int:
        count = self._nc.get(nonce, 0) + 1
        if count == 1 and len(self._nc) >= self._MAX_NONCES:
            del self._nc[next(iter(self._nc))]
        self._nc[nonce] = count
        return count
