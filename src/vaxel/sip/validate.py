"""Is a parsed message usable by a registrar/B2BUA? (P2; RFC 3261 §8.2, §16.3; RFC 4475).

The parser only checks framing and the start line; headers are parsed
lazily. These checks touch every header the switch relies on, so that a
malformed value becomes a RemoteProtocolError carrying the status to
answer with, instead of an exception deep inside call handling. Headers
the switch never reads stay unparsed: RFC 4475 asks for tolerance there.
"""

from __future__ import annotations

from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.headers import TOKEN_RE
from vaxel.sip.message import Message, Request, Response
from vaxel.sip.uri import SipURI, TelURI

# The magic cookie alone names no transaction (RFC 4475 §3.2.1).
MAGIC_COOKIE = "z9hG4bK"
REQUEST_URI_SCHEMES = frozenset({"sip", "sips", "tel"})
AOR_SCHEMES = frozenset({"sip", "sips"})
# Headers that may appear once only; a second copy makes the message ambiguous.
_SINGLE = tuple(
    (n.lower(), n) for n in ("To", "From", "Call-ID", "CSeq", "Max-Forwards", "Expires")
)
_MANDATORY = tuple((n.lower(), n) for n in ("Via", "From", "To", "Call-ID", "CSeq"))
_NO_REQUIRE_CHECK = frozenset({"ACK", "CANCEL"})


def _bad(reason: str) -> RemoteProtocolError:
    return RemoteProtocolError(reason, 400)


def _check_common(message: Message) -> None:
    # Counted by hand: collections.Counter is interpreted code, run on every message.
    counts: dict[str, int] = {}
    for key in message.headers.field_keys():
        counts[key] = counts.get(key, 0) + 1
    for key, name in _MANDATORY:
        if key not in counts:
            raise _bad(f"missing {name} header")
    for key, name in _SINGLE:
        if counts.get(key, 0) > 1:
            raise _bad(f"more than one {name} header")
    vias = message.vias
    if not vias:
        raise _bad("empty Via header")
    if not message.call_id:
        raise _bad("empty Call-ID")
    # Parsing is the check: these raise on malformed values.
    _ = (message.from_, message.to, message.cseq, message.contacts)


def _non_negative(headers_value: str | None, name: str, limit: int | None = None) -> None:
    if headers_value is None:
        return
    value = headers_value.strip()
    if not value.isdigit() or not value.isascii():
        raise _bad(f"bad {name}: {value[:40]!r}")
    if limit is not None and int(value) > limit:
        raise _bad(f"{name} out of range: {value[:40]!r}")


def check_request(
    request: Request,
    *,
    supported: frozenset[str] = frozenset(),
    methods: frozenset[str] | None = None,
    allow: str | None = None,
) -> None:
    """Raise RemoteProtocolError(reason, status, headers) if `request` can't be served.

    `supported` lists our option tags (checked against Require); `methods`,
    when given, lists the methods we recognise (others get 501 with an Allow
    header: `allow`, or else `methods`).
    """
    _check_common(request)
    headers = request.headers
    if methods is not None and request.method not in methods:
        raise RemoteProtocolError(
            f"method not implemented: {request.method[:40]!r}",
            501,
            [("Allow", allow or ", ".join(sorted(methods)))],
        )
    if request.cseq.method != request.method:
        raise _bad("CSeq method does not match the request method")
    uri = request.uri
    if uri.scheme not in REQUEST_URI_SCHEMES:
        raise RemoteProtocolError(f"unsupported Request-URI scheme {uri.scheme!r}", 416)
    if isinstance(uri, SipURI) and uri.headers:
        raise _bad("headers in the Request-URI")  # RFC 4475 §3.1.2.11
    for via in request.vias:
        if via.branch == MAGIC_COOKIE:
            raise _bad("Via branch is only the magic cookie")
    _non_negative(headers.get("Max-Forwards"), "Max-Forwards", 255)
    _non_negative(headers.get("Expires"), "Expires")
    for contact in request.contacts:
        if not contact.wildcard:
            _non_negative(contact.params.get("expires"), "Contact expires")
    if request.method == "REGISTER" and request.to.uri.scheme not in AOR_SCHEMES:
        # The address-of-record must be a SIP or SIPS URI (RFC 3261 §10.2).
        raise RemoteProtocolError(f"unsupported AoR scheme {request.to.uri.scheme!r}", 416)
    if request.method not in _NO_REQUIRE_CHECK:
        unsupported = []
        for option in headers.values("Require"):
            if not TOKEN_RE.match(option):
                raise _bad(f"bad Require option: {option[:40]!r}")
            if option not in supported:
                unsupported.append(option)
        if unsupported:
            raise RemoteProtocolError(
                "unsupported Require options", 420, [("Unsupported", ", ".join(unsupported))]
            )


def check_response(response: Response) -> None:
    """Raise RemoteProtocolError when `response` can't be matched or used: drop it."""
    if not 100 <= response.status <= 699:
        raise _bad(f"status code out of range: {response.status}")
    _check_common(response)
    for contact in response.contacts:
        if not contact.wildcard and isinstance(contact.uri, SipURI | TelURI):
            _non_negative(contact.params.get("expires"), "Contact expires")
