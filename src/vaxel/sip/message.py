"""SIP messages (P2): parse bytes into Request/Response, serialize them back (RFC 3261 §7).

Header values are kept as text and parsed on first use, so a proxy-like
path (read Via, Call-ID, CSeq, answer) never parses what it does not read.
Bodies stay bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.headers import (
    LIST_HEADERS,
    TOKEN_RE,
    CSeq,
    NameAddr,
    Via,
    canonical_name,
    parse_cseq,
    parse_name_addr,
    parse_via,
    split_commas,
)
from vaxel.sip.uri import URI, parse_uri

T = TypeVar("T")
SIP_VERSION = "SIP/2.0"
MAX_MESSAGE_SIZE = 65535

REASONS = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 300: "Multiple Choices",
    301: "Moved Permanently", 302: "Moved Temporarily", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
    410: "Gone", 413: "Request Entity Too Large", 415: "Unsupported Media Type",
    416: "Unsupported URI Scheme", 420: "Bad Extension", 421: "Extension Required",
    422: "Session Interval Too Small", 423: "Interval Too Brief",
    480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
    482: "Loop Detected", 483: "Too Many Hops", 484: "Address Incomplete", 485: "Ambiguous",
    486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here",
    489: "Bad Event", 491: "Request Pending", 500: "Server Internal Error",
    501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Server Time-out", 505: "Version Not Supported", 513: "Message Too Large",
    600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}  # fmt: skip


class Headers:
    """An ordered multi-map of header fields, case-insensitive by name.

    Each field is stored once as sent (a comma list stays one field); the
    `values()` view splits list headers into their elements.
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: list[tuple[str, str]] | None = None) -> None:
        # (lower-case key, canonical name, value): the key is computed once per
        # field, so lookups compare strings without lower-casing them again.
        self._fields: list[tuple[str, str, str]] = []
        for name, value in fields or []:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        key, cname = _key(name)
        self._fields.append((key, cname, value))

    def insert(self, name: str, value: str) -> None:
        """Add a field before any other of the same name (e.g. a new top Via)."""
        key, cname = _key(name)
        for i, field in enumerate(self._fields):
            if field[0] == key:
                self._fields.insert(i, (key, cname, value))
                return
        self._fields.append((key, cname, value))

    def set(self, name: str, value: str) -> None:
        """Replace every field of this name with one."""
        self.remove(name)
        self.add(name, value)

    def set_first(self, name: str, value: str) -> None:
        """Replace the value of the first field of this name (or add one)."""
        key, cname = _key(name)
        for i, field in enumerate(self._fields):
            if field[0] == key:
                self._fields[i] = (key, cname, value)
                return
        self._fields.append((key, cname, value))

    def remove(self, name: str) -> None:
        key = _key(name)[0]
        self._fields = [f for f in self._fields if f[0] != key]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first field's value (the whole field, not split)."""
        key = _key(name)[0]
        for field in self._fields:
            if field[0] == key:
                return field[2]
        return default

    def get_all(self, name: str) -> list[str]:
        """Every field's value, in order, not split."""
        key = _key(name)[0]
        return [f[2] for f in self._fields if f[0] == key]

    def values(self, name: str) -> list[str]:
        """Every element, with list headers split on commas."""
        key = _key(name)[0]
        out: list[str] = []
        split = key in LIST_HEADERS
        for field in self._fields:
            if field[0] == key:
                if split:
                    out.extend(split_commas(field[2]))
                else:
                    out.append(field[2].strip())
        return out

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((cname, value) for _, cname, value in self._fields)

    def field_keys(self) -> list[str]:
        """The lower-case name of every field, in order (compact forms expanded)."""
        return [field[0] for field in self._fields]

    def __len__(self) -> int:
        return len(self._fields)

    def copy(self) -> Headers:
        new = Headers()
        new._fields = list(self._fields)
        return new


_KEYS: dict[str, tuple[str, str]] = {}


def _key(name: str) -> tuple[str, str]:
    """(lower-case key, canonical name) of a header name, memoised for the names
    seen most; the memo stops growing so odd names from peers cannot fill it."""
    try:
        return _KEYS[name]
    except KeyError:
        cname = canonical_name(name)
        result = (cname.lower(), cname)
        if len(_KEYS) < 4096:
            _KEYS[name] = result
        return result


_UNPARSED = object()


class _Parsed(Generic[T]):
    """A header value parsed on first use and kept in the message's cache.

    `invalidate()` forgets them all after the headers were edited.
    """

    def __init__(self, parse: Callable[[Message], T]) -> None:
        self.parse = parse
        self.key = parse.__name__

    def __get__(self, message: Message | None, owner: type) -> T:
        if message is None:
            return self  # type: ignore[return-value]
        # A lookup, not try/except KeyError: a first use is the common case, and
        # an exception costs a traceback object in compiled code.
        cache = message._cache
        value = cache.get(self.key, _UNPARSED)
        if value is _UNPARSED:
            value = cache[self.key] = self.parse(message)
        return value  # type: ignore[return-value]


class Message:
    """What requests and responses share: headers, body and parsed accessors."""

    __slots__ = ("_cache", "body", "headers")

    def __init__(self, headers: Headers | None = None, body: bytes = b"") -> None:
        self.headers = headers if headers is not None else Headers()
        self.body = body
        self._cache: dict[str, object] = {}

    def invalidate(self) -> None:
        """Forget parsed header values after the headers were changed."""
        self._cache.clear()

    def _required(self, name: str) -> str:
        value = self.headers.get(name)
        if value is None:
            raise RemoteProtocolError(f"missing {name} header")
        return value

    @_Parsed
    def vias(self) -> list[Via]:
        return [parse_via(v) for v in self.headers.values("Via")]

    @property
    def via(self) -> Via:
        vias = self.vias
        if not vias:
            raise RemoteProtocolError("missing Via header")
        return vias[0]

    @_Parsed
    def call_id(self) -> str:
        return self._required("Call-ID").strip()

    @_Parsed
    def cseq(self) -> CSeq:
        return parse_cseq(self._required("CSeq"))

    @_Parsed
    def from_(self) -> NameAddr:
        return parse_name_addr(self._required("From"))

    @_Parsed
    def to(self) -> NameAddr:
        return parse_name_addr(self._required("To"))

    @_Parsed
    def contacts(self) -> list[NameAddr]:
        return [parse_name_addr(v) for v in self.headers.values("Contact")]

    def name_addrs(self, name: str) -> list[NameAddr]:
        """Route, Record-Route and other name-addr lists, parsed."""
        return [parse_name_addr(v) for v in self.headers.values(name)]

    def _head_lines(self) -> list[str]:
        raise NotImplementedError

    def __bytes__(self) -> bytes:
        lines = self._head_lines()
        # Content-Length always states the body we carry, wherever it stood.
        lines += [f"{cname}: {value}" for key, cname, value in self.headers._fields
                  if key != "content-length"]  # fmt: skip
        lines.append(f"Content-Length: {len(self.body)}\r\n\r\n")
        return "\r\n".join(lines).encode("utf-8", "surrogateescape") + self.body


class Request(Message):
    __slots__ = ("method", "uri", "version")

    def __init__(
        self,
        method: str,
        uri: URI,
        headers: Headers | None = None,
        body: bytes = b"",
        version: str = SIP_VERSION,
    ) -> None:
        super().__init__(headers, body)
        self.method = method
        self.uri = uri
        self.version = version

    def _head_lines(self) -> list[str]:
        return [f"{self.method} {self.uri} {self.version}"]

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.uri}>"


class Response(Message):
    __slots__ = ("reason", "status", "version")

    def __init__(
        self,
        status: int,
        reason: str | None = None,
        headers: Headers | None = None,
        body: bytes = b"",
        version: str = SIP_VERSION,
    ) -> None:
        super().__init__(headers, body)
        self.status = status
        self.reason = REASONS.get(status, "Unknown") if reason is None else reason
        self.version = version

    def _head_lines(self) -> list[str]:
        return [f"{self.version} {self.status} {self.reason}"]

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.reason}>"


_HEAD_END = re.compile(rb"\r\n\r\n|\n\n")  # the stream framer's (bytearray) search
_REQUEST_LINE = re.compile(r"^([^ \t]+) ([^ \t]+) ([^ \t]+)$")
# Status-Line = SIP-Version SP Status-Code SP Reason-Phrase; a missing final SP is
# tolerated (RFC 4475 §3.1.1.13), a four-digit code is not (§3.1.2.19).
_STATUS_LINE = re.compile(r"^(SIP/[^ \t]+) ([1-6]\d\d)(?: (.*))?$", re.I | re.S)
_FOLD = re.compile(r"\r?\n[ \t]+")
# What the stream framer reads of a head: the Content-Length field (or its compact form
# "l"), name case-insensitive, whitespace allowed before the colon (RFC 3261 HCOLON).
_FRAME_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(.*?)[ \t]*\r?$", re.I | re.M)
_FOLD_BYTES = re.compile(rb"\r?\n[ \t]+")


def split_head(data: bytes) -> tuple[bytes, bytes] | None:
    """Split at the blank line; None when the head is not complete yet."""
    # Two byte searches (memchr speed), not a regex alternation over the whole head.
    end = data.find(b"\r\n\r\n")
    bare = data.find(b"\n\n", 0, end if end >= 0 else len(data))
    if bare >= 0:
        return data[:bare], data[bare + 2 :]
    if end < 0:
        return None
    return data[:end], data[end + 4 :]


def parse_head(head: bytes) -> tuple[Request | Response, int | None]:
    """Parse the start line and headers; return the message and its Content-Length."""
    text = head.decode("utf-8", "surrogateescape").lstrip("\r\n")
    if "\n " in text or "\n\t" in text:
        text = _FOLD.sub(" ", text)
    if text.count("\n") == text.count("\r\n"):
        lines = text.split("\r\n")
    else:  # bare LF line ends, or a mix
        lines = text.replace("\r\n", "\n").split("\n")
    start = lines[0]
    headers = Headers()
    fields = headers._fields
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        known = _KEYS.get(name)  # names seen before were checked then
        if known is None or not colon:
            name = name.rstrip(" \t")
            if not colon or not name or not TOKEN_RE.match(name):
                raise RemoteProtocolError(f"malformed header line: {line[:80]!r}")
            known = _key(name)
        fields.append((known[0], known[1], value.strip(" \t")))
    message: Request | Response
    status_match = _STATUS_LINE.match(start)
    if status_match:
        if status_match.group(1).upper() != SIP_VERSION:
            raise RemoteProtocolError("unsupported SIP version", 505)
        message = Response(int(status_match.group(2)), status_match.group(3) or "", headers)
    elif start[:4].upper() == "SIP/":
        raise RemoteProtocolError(f"malformed status line: {start[:80]!r}")
    else:
        request_match = _REQUEST_LINE.match(start)
        if not request_match:
            raise RemoteProtocolError(f"malformed start line: {start[:80]!r}")
        method, uri_text, version = request_match.groups()
        if not TOKEN_RE.match(method):
            raise RemoteProtocolError(f"bad method: {method[:40]!r}")
        if version.upper() != SIP_VERSION:
            raise RemoteProtocolError("unsupported SIP version", 505)
        message = Request(method, parse_uri(uri_text), headers, version=SIP_VERSION)
    lengths = headers.values("Content-Length")
    if not lengths:
        return message, None
    # Several Content-Length fields leave the framing ambiguous (RFC 4475 §3.3.9).
    if len(lengths) != 1 or not lengths[0].isdigit() or not lengths[0].isascii():
        raise RemoteProtocolError("bad Content-Length")
    return message, int(lengths[0])


def parse_message(data: bytes, *, stream: bool = False) -> Request | Response:
    """Parse one whole message (a datagram, or a frame cut by `StreamFramer`).

    For datagrams a missing Content-Length means "the rest of the packet";
    a Content-Length larger than the body is an error, a smaller one
    truncates the body (RFC 3261 §18.3).
    """
    parts = split_head(data)
    if parts is None:
        head, body = data.rstrip(b"\r\n"), b""
        if not head:
            raise RemoteProtocolError("empty message")
    else:
        head, body = parts
    message, length = parse_head(head)
    if length is None:
        if stream:
            raise RemoteProtocolError("missing Content-Length on a stream transport")
    elif length > len(body):
        raise RemoteProtocolError("body shorter than Content-Length")
    else:
        body = body[:length]
    message.body = body
    return message


def frame_length(head: bytes) -> int | None:
    """The Content-Length of a message head, read for framing only (None: there is none).

    Nothing else of the head is judged: a request with a malformed start
    line or header is still one frame, which the switch answers with 400
    on the same connection. Raises RemoteProtocolError when the length
    itself is unusable (several fields, not a number): the stream cannot
    be cut any more.
    """
    if b"\n " in head or b"\n\t" in head:
        head = _FOLD_BYTES.sub(b" ", head)  # a folded Content-Length value
    values = _FRAME_LENGTH.findall(head)
    if not values:
        return None
    # Several Content-Length fields leave the framing ambiguous (RFC 4475 §3.3.9).
    if len(values) != 1 or not values[0].isdigit():
        raise RemoteProtocolError("bad Content-Length")
    return int(values[0])


class StreamFramer:
    """Cuts a TCP byte stream into messages by Content-Length (RFC 3261 §18.3).

    Feed bytes in; take whole messages out. CRLF keep-alives (RFC 5626
    §4.4.1) between messages are reported so the caller can answer a
    double CRLF with a single CRLF. Only the Content-Length is read here
    (`frame_length`), so a well-framed but malformed request reaches the
    switch and gets its 400 over the connection (P2); the connection is
    given up only when framing is lost.
    """

    __slots__ = ("_buffer", "max_size")

    def __init__(self, max_size: int = MAX_MESSAGE_SIZE) -> None:
        self._buffer = bytearray()
        self.max_size = max_size

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next(self) -> bytes | None:
        """Return the next whole message, b"\\r\\n\\r\\n" for a keep-alive ping,
        b"\\r\\n" for a pong, or None when more bytes are needed.

        Raises RemoteProtocolError when the stream cannot be framed (no or a
        bad Content-Length, a head or message over `max_size`); the connection
        must then be closed.
        """
        buf = self._buffer
        if buf[:4] == b"\r\n\r\n":
            del buf[:4]
            return b"\r\n\r\n"
        if buf[:2] == b"\r\n" and len(buf) >= 2:
            if len(buf) < 4 and buf == b"\r\n\r"[: len(buf)]:
                return None  # maybe the start of a ping
            del buf[:2]
            return b"\r\n"
        match = _HEAD_END.search(buf, 0, self.max_size + 4)
        if match is None:
            if len(buf) > self.max_size:
                raise RemoteProtocolError("message head too large", 513)
            return None
        head_len = match.end()
        length = frame_length(bytes(buf[: match.start()]))
        if length is None:
            raise RemoteProtocolError("missing Content-Length on a stream transport")
        total = head_len + length
        if total > self.max_size:
            raise RemoteProtocolError("message too large", 513)
        if len(buf) < total:
            return None
        frame = bytes(buf[:total])
        del buf[:total]
        return frame

    @property
    def pending(self) -> int:
        return len(self._buffer)


_COPIED = frozenset({"via", "from", "call-id", "cseq"})


def make_response(
    request: Request, status: int, reason: str | None = None, *, to_tag: str | None = None
) -> Response:
    """Build a response that copies Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6)."""
    headers = Headers()
    copied = headers._fields
    for field in request.headers._fields:
        key = field[0]
        if key in _COPIED:
            copied.append(field)
        elif key == "to":
            if to_tag and status != 100 and request.to.tag is None:
                field = (key, field[1], f"{field[2]};tag={to_tag}")
            copied.append(field)
    if status == 100 and (ts := request.headers.get("Timestamp")):
        headers.add("Timestamp", ts)
    return Response(status, reason, headers)
