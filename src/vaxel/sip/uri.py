"""SIP, SIPS and tel URIs (P2; RFC 3261 §19.1, §25.1; RFC 3966).

Parameters keep their order and their case as sent; names are compared
case-insensitively. %-escapes in the user part are decoded exactly once,
at parse time, and re-escaped on output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from vaxel.sip.errors import RemoteProtocolError

# __init__s are written out: mypyc compiles them, not the dataclass-generated ones.

# RFC 3261 §25.1: user = 1*( unreserved / escaped / user-unreserved )
_USER_SAFE = "-_.!~*'()&=+$,;?/"
_PASSWORD_SAFE = "-_.!~*'()&=+$,"
_PARAM_SAFE = "-_.!~*'()[]/:&+$"
_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)$")
_HEX_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


_UNSAFE: dict[str, re.Pattern[str]] = {}


def _escape(text: str, safe: str) -> str:
    """%-escape what `safe` does not allow; most values need none, and skip `quote`."""
    unsafe = _UNSAFE.get(safe)
    if unsafe is None:
        # quote() never escapes letters, digits and "_.-~".
        unsafe = _UNSAFE[safe] = re.compile(f"[^A-Za-z0-9_.~{re.escape(safe)}-]")
    if unsafe.search(text) is None:
        return text
    return quote(text, safe=safe, errors="surrogateescape")


def _unescape(text: str, what: str) -> str:
    if "%" not in text:
        return text
    if _HEX_ESCAPE.search(text):
        raise RemoteProtocolError(f"bad %-escape in URI {what}")
    return unquote(text, errors="surrogateescape")


def _split_params(text: str) -> list[tuple[str, str | None]]:
    params: list[tuple[str, str | None]] = []
    for part in text.split(";"):
        if not part:
            continue
        name, eq, value = part.partition("=")
        params.append((_unescape(name, "parameter"), _unescape(value, "parameter") if eq else None))
    return params


@dataclass(slots=True)
class Params:
    """An ordered, case-insensitive parameter list (`;name=value;flag`)."""

    items: list[tuple[str, str | None]] = field(default_factory=list)

    def __init__(self, items: list[tuple[str, str | None]] | None = None) -> None:
        self.items = [] if items is None else items

    def get(self, name: str, default: str | None = None) -> str | None:
        lname = name.lower()
        for key, value in self.items:
            if key.lower() == lname:
                return value
        return default

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        lname = name.lower()
        return any(key.lower() == lname for key, _ in self.items)

    def set(self, name: str, value: str | None = None) -> None:
        lname = name.lower()
        for i, (key, _) in enumerate(self.items):
            if key.lower() == lname:
                self.items[i] = (key, value)
                return
        self.items.append((name, value))

    def remove(self, name: str) -> None:
        lname = name.lower()
        self.items = [(k, v) for k, v in self.items if k.lower() != lname]

    def copy(self) -> Params:
        return Params(list(self.items))

    def __bool__(self) -> bool:
        return bool(self.items)

    def format(self, safe: str = _PARAM_SAFE) -> str:
        out = []
        for key, value in self.items:
            if value is None:
                out.append(f";{key}")
            else:
                out.append(f";{key}={_escape(value, safe)}")
        return "".join(out)


@dataclass(slots=True)
class SipURI:
    """A sip: or sips: URI."""

    host: str
    user: str | None = None
    password: str | None = None
    port: int | None = None
    scheme: str = "sip"
    params: Params = field(default_factory=Params)
    headers: list[tuple[str, str]] = field(default_factory=list)

    def __init__(
        self,
        host: str,
        user: str | None = None,
        password: str | None = None,
        port: int | None = None,
        scheme: str = "sip",
        params: Params | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.host = host
        self.user = user
        self.password = password
        self.port = port
        self.scheme = scheme
        self.params = Params() if params is None else params
        self.headers = [] if headers is None else headers

    @property
    def host_port(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def transport(self) -> str | None:
        value = self.params.get("transport")
        return value.lower() if value else None

    def copy(self) -> SipURI:
        return SipURI(
            self.host,
            self.user,
            self.password,
            self.port,
            self.scheme,
            self.params.copy(),
            list(self.headers),
        )

    def __str__(self) -> str:
        out = [self.scheme, ":"]
        if self.user is not None:
            out.append(_escape(self.user, _USER_SAFE))
            if self.password is not None:
                out.append(":" + _escape(self.password, _PASSWORD_SAFE))
            out.append("@")
        out.append(self.host_port)
        out.append(self.params.format())
        if self.headers:
            out.append("?" + "&".join(f"{k}={quote(v, safe=_PARAM_SAFE)}" for k, v in self.headers))
        return "".join(out)


@dataclass(slots=True)
class TelURI:
    """A tel: URI (RFC 3966): a global (+E.164) or local number."""

    number: str
    params: Params = field(default_factory=Params)
    scheme: str = "tel"

    def __init__(self, number: str, params: Params | None = None, scheme: str = "tel") -> None:
        self.number = number
        self.params = Params() if params is None else params
        self.scheme = scheme

    @property
    def user(self) -> str:
        return self.number

    @property
    def is_global(self) -> bool:
        return self.number.startswith("+")

    def copy(self) -> TelURI:
        return TelURI(self.number, self.params.copy())

    def __str__(self) -> str:
        return f"tel:{self.number}{self.params.format()}"


@dataclass(slots=True)
class AbsoluteURI:
    """Any other absolute URI (RFC 3261 permits them, e.g. in Contact)."""

    scheme: str
    rest: str

    def __init__(self, scheme: str, rest: str) -> None:
        self.scheme = scheme
        self.rest = rest

    def copy(self) -> AbsoluteURI:
        return AbsoluteURI(self.scheme, self.rest)

    def __str__(self) -> str:
        return f"{self.scheme}:{self.rest}"


URI = SipURI | TelURI | AbsoluteURI
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):(.*)$", re.S)
_NOT_IN_URI = re.compile(r"[ \t\r\n<>]")


def parse_host_port(text: str) -> tuple[str, int | None]:
    """Split `host[:port]`, with IPv6 references in brackets."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise RemoteProtocolError("unterminated IPv6 reference")
        host, rest = text[: end + 1], text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise RemoteProtocolError(f"bad host: {text!r}")
        port_text = rest[1:] if rest else ""
        has_port = bool(rest)
    else:
        host, has_sep, port_text = text.partition(":")
        has_port = bool(has_sep)
    if not host or not _HOST_RE.match(host):
        raise RemoteProtocolError(f"bad host: {text!r}")
    if not has_port:
        return host, None
    if not port_text.isdigit() or int(port_text) > 65535:
        raise RemoteProtocolError(f"bad port: {text!r}")
    return host, int(port_text)


def parse_uri(text: str) -> URI:
    """Parse a URI as it appears in a Request-URI or inside `<...>`."""
    match = _SCHEME_RE.match(text)
    if not match or _NOT_IN_URI.search(text):
        raise RemoteProtocolError(f"bad URI: {text!r}")
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme in ("sip", "sips"):
        return _parse_sip_uri(scheme, rest)
    if scheme == "tel":
        number, _, params = rest.partition(";")
        if not number:
            raise RemoteProtocolError(f"bad tel URI: {text!r}")
        return TelURI(_unescape(number, "number"), Params(_split_params(params)))
    return AbsoluteURI(scheme, rest)


def _parse_sip_uri(scheme: str, rest: str) -> SipURI:
    # '@' can only end the userinfo: params and headers never hold it unescaped,
    # while the user part may hold '?', ';' and ',' (RFC 3261 §25.1 user-unreserved).
    user = password = None
    at = rest.rfind("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        if not userinfo:
            raise RemoteProtocolError("empty user part in SIP URI")
        user_text, colon, password_text = userinfo.partition(":")
        user = _unescape(user_text, "user")
        password = _unescape(password_text, "password") if colon else None
    rest, _, header_text = rest.partition("?")
    hostport, _, param_text = rest.partition(";")
    host, port = parse_host_port(hostport)
    headers: list[tuple[str, str]] = []
    if header_text:
        for item in header_text.split("&"):
            name, _, value = item.partition("=")
            headers.append((_unescape(name, "header"), _unescape(value, "header")))
    return SipURI(host, user, password, port, scheme, Params(_split_params(param_text)), headers)
