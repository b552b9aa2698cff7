"""Header names and the structured header values of RFC 3261 §20 and §25.1 (P2)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.uri import URI, Params, SipURI, parse_host_port, parse_uri

# __init__s are written out: mypyc compiles them, not the dataclass-generated ones.

# RFC 3261 §7.3.3 and the RFCs that added compact forms.
COMPACT_FORMS = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "n": "Identity-Info",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}

_KNOWN = [
    "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Allow-Events",
    "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact",
    "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
    "Content-Type", "CSeq", "Date", "Error-Info", "Event", "Expires", "From", "In-Reply-To",
    "Max-Forwards", "Min-Expires", "Min-SE", "MIME-Version", "Organization", "P-Asserted-Identity",
    "Path", "Priority", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "RAck",
    "Reason", "Record-Route", "Refer-To", "Referred-By", "Replaces", "Reply-To", "Require",
    "Retry-After", "Route", "RSeq", "Server", "Session-Expires", "Subject",
    "Subscription-State", "Supported", "Timestamp", "To", "Unsupported", "User-Agent", "Via",
    "Warning", "WWW-Authenticate",
]  # fmt: skip
_CANONICAL = {name.lower(): name for name in _KNOWN}
_CANONICAL.update({short: long for short, long in COMPACT_FORMS.items()})

# Headers whose values are comma-separated lists (RFC 3261 §7.3.1). Others,
# such as the authentication headers and Date, carry commas inside one value.
LIST_HEADERS = frozenset(
    name.lower()
    for name in (
        "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Allow-Events",
        "Call-Info", "Contact", "Content-Encoding", "Content-Language", "Error-Info",
        "In-Reply-To", "Path", "Proxy-Require", "Record-Route", "Require", "Route",
        "Supported", "Unsupported", "Via", "Warning", "Reason", "P-Asserted-Identity",
    )
)  # fmt: skip

TOKEN_RE = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")


def canonical_name(name: str) -> str:
    """Return the canonical spelling of a header name (compact forms expanded)."""
    return _CANONICAL.get(name.lower(), name)


# One list element: quoted strings (with quoted-pairs) and <...> may hold
# commas; anything else up to the next comma. Unterminated quotes or brackets
# run to the end, as the character scanner they replace did.
_LIST_ELEMENT = re.compile(r'(?:"(?:[^"\\]|\\.)*"?|<[^>]*>?|[^,"<])+', re.S)


def split_commas(value: str) -> list[str]:
    """Split a list header value on commas outside quotes and angle brackets."""
    if "," not in value:  # one element: most header values
        value = value.strip()
        return [value] if value else []
    if '"' not in value and "<" not in value:
        parts = value.split(",")
    else:
        parts = _LIST_ELEMENT.findall(value)
    return [part for part in (p.strip() for p in parts) if part]


def unquote_string(text: str) -> str:
    """Decode a quoted-string body (without its quotes): quoted-pairs become the char."""
    if "\\" not in text:
        return text
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            i += 1
            c = text[i]
        out.append(c)
        i += 1
    return "".join(out)


def quote_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scan_quoted(text: str, start: int) -> int:
    """Return the index after the closing quote of a quoted-string at `start`."""
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        i += 1
    raise RemoteProtocolError("unterminated quoted string")


def parse_params(text: str) -> Params:
    """Parse `;name=value;flag` header parameters; values may be quoted strings."""
    if not text or text.isspace():
        return Params()
    if '"' not in text:
        return Params(_plain_params(text))
    items: list[tuple[str, str | None]] = []
    i = 0
    n = len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        if text[i] != ";":
            raise RemoteProtocolError(f"bad parameter list: {text!r}")
        i += 1
        j = i
        while j < n and text[j] not in "=;":
            j += 1
        name = text[i:j].strip()
        if not name or not TOKEN_RE.match(name):
            raise RemoteProtocolError(f"bad parameter name: {text!r}")
        value: str | None = None
        if j < n and text[j] == "=":
            j += 1
            while j < n and text[j] in " \t":
                j += 1
            if j < n and text[j] == '"':
                end = _scan_quoted(text, j)
                value = text[j:end]
                j = end
            else:
                k = j
                while k < n and text[k] != ";":
                    k += 1
                value = text[j:k].strip()
                j = k
        items.append((name, value))
        i = j
    return Params(items)


def _plain_params(text: str) -> list[tuple[str, str | None]]:
    """`parse_params` for the usual case, no quoted values: split on ';' (C speed)."""
    first, *parts = text.split(";")
    if first.strip(" \t") or not parts:
        raise RemoteProtocolError(f"bad parameter list: {text!r}")
    items: list[tuple[str, str | None]] = []
    for part in parts:
        name, eq, value = part.partition("=")
        name = name.strip()
        if not name or not TOKEN_RE.match(name):
            raise RemoteProtocolError(f"bad parameter name: {text!r}")
        items.append((name, value.strip() if eq else None))
    return items


@dataclass(slots=True)
class NameAddr:
    """From, To, Contact, Route, Record-Route: `"Name" <uri>;params` or `uri;params`."""

    uri: URI
    display_name: str | None = None
    params: Params = field(default_factory=Params)
    wildcard: bool = False

    def __init__(
        self,
        uri: URI,
        display_name: str | None = None,
        params: Params | None = None,
        wildcard: bool = False,
    ) -> None:
        self.uri = uri
        self.display_name = display_name
        self.params = Params() if params is None else params
        self.wildcard = wildcard

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def copy(self) -> NameAddr:
        return NameAddr(self.uri.copy(), self.display_name, self.params.copy(), self.wildcard)

    def __str__(self) -> str:
        if self.wildcard:
            return "*"
        name = f"{quote_string(self.display_name)} " if self.display_name else ""
        return f"{name}<{self.uri}>{self.params.format(safe=_PARAM_VALUE_SAFE)}"


_PARAM_VALUE_SAFE = "-_.!~*'()[]/:&+$\"@ "


def parse_name_addr(value: str) -> NameAddr:
    """Parse one name-addr or addr-spec with its header parameters."""
    text = value.strip()
    if text == "*":
        return NameAddr(SipURI("*"), wildcard=True)
    display: str | None = None
    if text.startswith('"'):
        end = _scan_quoted(text, 0)
        display = unquote_string(text[1 : end - 1])
        text = text[end:].lstrip()
        if not text.startswith("<"):
            raise RemoteProtocolError(f"display name without <URI>: {value!r}")
    lt = text.find("<")
    if lt >= 0:
        gt = text.find(">", lt)
        if gt < 0:
            raise RemoteProtocolError(f"unterminated <URI>: {value!r}")
        if display is None:
            token_name = text[:lt].strip()
            # display-name = *(token LWS) / quoted-string: "Bell, Alexander" is not one.
            if token_name and not all(TOKEN_RE.match(word) for word in token_name.split()):
                raise RemoteProtocolError(
                    f"unquoted display name with non-token characters: {value!r}"
                )
            display = " ".join(token_name.split()) or None
        uri = parse_uri(text[lt + 1 : gt])
        rest = text[gt + 1 :]
    else:
        # addr-spec: any ';' starts the header parameters (RFC 3261 §20).
        uri_text, semi, params_text = text.partition(";")
        if "?" in uri_text or "," in uri_text:
            raise RemoteProtocolError(f"addr-spec with reserved characters: {value!r}")
        uri = parse_uri(uri_text.strip())
        rest = semi + params_text
    return NameAddr(uri, display, parse_params(rest))


@dataclass(slots=True)
class Via:
    """One Via header value: `SIP/2.0/UDP host:port;branch=...;rport`."""

    transport: str
    host: str
    port: int | None = None
    params: Params = field(default_factory=Params)

    def __init__(
        self, transport: str, host: str, port: int | None = None, params: Params | None = None
    ) -> None:
        self.transport = transport
        self.host = host
        self.port = port
        self.params = Params() if params is None else params

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    def __str__(self) -> str:
        port = "" if self.port is None else f":{self.port}"
        return f"SIP/2.0/{self.transport} {self.host}{port}{self.params.format()}"


_VIA_RE = re.compile(
    r"^\s*SIP\s*/\s*2\.0\s*/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+([^;\s]+)\s*(;.*)?$", re.S | re.I
)


def parse_via(value: str) -> Via:
    match = _VIA_RE.match(value)
    if not match:
        raise RemoteProtocolError(f"bad Via: {value!r}")
    host, port = parse_host_port(match.group(2))
    return Via(match.group(1).upper(), host, port, parse_params(match.group(3) or ""))


@dataclass(frozen=True, slots=True)
class CSeq:
    number: int
    method: str

    def __init__(self, number: int, method: str) -> None:
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "method", method)

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


_CSEQ_RE = re.compile(r"^\s*(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)\s*$")


def parse_cseq(value: str) -> CSeq:
    match = _CSEQ_RE.match(value)
    if not match or int(match.group(1)) >= 2**31:
        raise RemoteProtocolError(f"bad CSeq: {value!r}")
    return CSeq(int(match.group(1)), match.group(2))


# One auth-param: token "=" ( token / quoted-string ), then a comma or the end.
_AUTH_PARAM_TEXT = (
    r"[ \t]*([!#$%&\'*+\-.^_`|~0-9A-Za-z]+)[ \t]*=[ \t]*"
    r'(?:"((?:[^"\\]|\\.)*)"|([^ \t,"]*))[ \t]*(?:,[ \t,]*|$)'
)
_AUTH_PARAM = re.compile(_AUTH_PARAM_TEXT, re.S)
_AUTH_PARAMS = re.compile(f"(?:{_AUTH_PARAM_TEXT})*", re.S)


def parse_auth_params(value: str) -> tuple[str, dict[str, str]]:
    """Parse `Digest name=value, name="value"` (WWW-Authenticate, Authorization).

    Parameter names are lower-cased; quoted values are unquoted. The whole
    list must be well formed (checked in one pass), then its items are read.
    """
    parts = value.split(None, 1)
    if not parts:
        raise RemoteProtocolError("empty authentication header")
    scheme = parts[0]
    rest = parts[1].rstrip() if len(parts) > 1 else ""
    if not _AUTH_PARAMS.fullmatch(rest):
        raise RemoteProtocolError(f"bad auth parameters: {rest[:60]!r}")
    return scheme, {
        m[1].lower(): (m[3] or "") if m[2] is None else unquote_string(m[2])
        for m in _AUTH_PARAM.finditer(rest)
    }


@dataclass(frozen=True, slots=True)
class SessionExpires:
    """A Session-Expires value (RFC 4028 §4): the interval in seconds, and who refreshes."""

    delta: int
    refresher: str | None  # "uac", "uas", or None when the sender leaves it open

    def __init__(self, delta: int, refresher: str | None) -> None:
        object.__setattr__(self, "delta", delta)
        object.__setattr__(self, "refresher", refresher)

    def __str__(self) -> str:
        return f"{self.delta};refresher={self.refresher}" if self.refresher else str(self.delta)


_SESSION_EXPIRES_RE = re.compile(r"^\s*(\d{1,10})\s*((?:;.*)?)$", re.S)


def parse_session_expires(value: str) -> SessionExpires:
    """`1800;refresher=uac` (RFC 4028 §4); a refresher other than uac/uas is no refresher."""
    match = _SESSION_EXPIRES_RE.match(value)
    if not match:
        raise RemoteProtocolError(f"bad Session-Expires: {value!r}")
    refresher = parse_params(match.group(2)).get("refresher")
    refresher = refresher.lower() if refresher else None
    return SessionExpires(int(match.group(1)), refresher if refresher in ("uac", "uas") else None)
