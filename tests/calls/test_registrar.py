"""calls/registrar in memory: bindings per RFC 3261 §10.3, with time passed in."""

from __future__ import annotations

from collections.abc import Callable

from vaxel.calls.registrar import Location, Registrar, RegistrarPolicy
from vaxel.services.registrations import Binding
from vaxel.services.users import SipUser
from vaxel.sip.message import Request, Response, parse_message
from vaxel.transport.base import Source

USER = SipUser(1, "acme.example", 7, "1001", "Anna", {})
SOURCE = Source("UDP", "192.0.2.1", 5060)


def _register(contacts: list[str], *, expires: int | None = None, cseq: int = 1,
              call_id: str = "c1") -> Request:  # fmt: skip
    lines = [
        "REGISTER sip:acme.example SIP/2.0",
        f"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{cseq}{call_id}",
        "From: <sip:1001@acme.example>;tag=a",
        "To: <sip:1001@acme.example>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        *[f"Contact: {c}" for c in contacts],
    ]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    message = parse_message(("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode())
    assert isinstance(message, Request)
    return message


class _Recorder:
    def __init__(self) -> None:
        self.writes: list[tuple[int, int, list[Binding]]] = []

    def __call__(self, company_id: int, user_id: int, bindings: list[Binding]) -> bool:
        self.writes.append((company_id, user_id, bindings))
        return True

    def after_write(self, done: Callable[[bool], None]) -> None:
        done(True)


def answer(registrar: Registrar, request: Request, user: SipUser, now: float) -> Response:
    """The registrar's final response (whether it waits for the store is tested elsewhere)."""
    response, _ = registrar.register(request, user, SOURCE, now)
    return response


def _registrar() -> tuple[Registrar, _Recorder]:
    recorder = _Recorder()
    return Registrar(Location(), recorder, RegistrarPolicy()), recorder


def test_three_devices_listed_in_the_200() -> None:
    registrar, recorder = _registrar()
    for i, port in enumerate((5061, 5062, 5063), start=1):
        response = answer(
            registrar,
            _register([f"<sip:1001@192.0.2.1:{port}>"], call_id=f"dev{port}", cseq=i),
            USER,
            1000.0,
        )
        assert response.status == 200
    assert len(response.headers.values("Contact")) == 3
    assert len(registrar.location.current(USER.user_id, 1000.0)) == 3
    assert recorder.writes[-1][:2] == (1, 7) and len(recorder.writes[-1][2]) == 3


def test_expiry_policy() -> None:
    registrar, _ = _registrar()
    brief = answer(registrar, _register(["<sip:1001@h:1>"], expires=59), USER, 0.0)
    assert brief.status == 423 and brief.headers.get("Min-Expires") == "60"
    long = answer(registrar, _register(["<sip:1001@h:1>;expires=86400"]), USER, 0.0)
    assert long.headers.get("Contact") == "<sip:1001@h:1>;expires=3600"
    default = answer(registrar, _register(["<sip:1001@h:2>"], cseq=2), USER, 0.0)
    assert "<sip:1001@h:2>;expires=3600" in default.headers.values("Contact")


def test_bindings_expire_with_time() -> None:
    registrar, _ = _registrar()
    answer(registrar, _register(["<sip:1001@h:1>"], expires=60), USER, 0.0)
    assert registrar.location.current(USER.user_id, 59.0)
    assert registrar.location.current(USER.user_id, 61.0) == []
    assert registrar.location.expire(61.0) == [USER.user_id]


def test_out_of_order_cseq_is_refused() -> None:
    registrar, _ = _registrar()
    answer(registrar, _register(["<sip:1001@h:1>"], cseq=5), USER, 0.0)
    stale = answer(registrar, _register(["<sip:1001@h:1>"], cseq=4), USER, 0.0)
    assert stale.status == 500


def test_remove_one_and_wildcard() -> None:
    registrar, recorder = _registrar()
    answer(registrar, _register(["<sip:1001@h:1>", "<sip:1001@h:2>"]), USER, 0.0)
    one = answer(registrar, _register(["<sip:1001@h:1>"], expires=0, cseq=2), USER, 0.0)
    assert one.headers.values("Contact") == ["<sip:1001@h:2>;expires=3600"]
    bad = answer(registrar, _register(["*"], cseq=3), USER, 0.0)
    assert bad.status == 400
    gone = answer(registrar, _register(["*"], expires=0, cseq=4), USER, 0.0)
    assert gone.status == 200 and gone.headers.values("Contact") == []
    assert recorder.writes[-1][2] == []


def test_instance_id_replaces_the_old_contact_of_the_same_device() -> None:
    registrar, _ = _registrar()
    instance = '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1'
    answer(registrar, _register([f"<sip:1001@h:1>;{instance}"]), USER, 0.0)
    moved = answer(registrar, _register([f"<sip:1001@h:9>;{instance}"], cseq=2), USER, 0.0)
    assert moved.headers.values("Contact") == [f"<sip:1001@h:9>;expires=3600;{instance}"]


def test_too_many_devices_refused() -> None:
    registrar, _ = _registrar()
    contacts = [f"<sip:1001@h:{p}>" for p in range(1, 12)]
    assert answer(registrar, _register(contacts), USER, 0.0).status == 403


def test_a_websocket_that_closes_takes_the_bindings_registered_over_it_and_no_others() -> None:
    """RFC 5626 §4.4: a flow that failed is not used again (a WebSocket never comes back)."""
    registrar, recorder = _registrar()
    tab = Source("WS", "192.0.2.1", 41000)
    other_tab = Source("WS", "192.0.2.1", 41001)
    registrar.register(_register(["<sip:a@x.invalid;transport=ws>"]), USER, tab, 0.0)
    registrar.register(_register(["<sip:1001@192.0.2.1>"], cseq=2), USER, SOURCE, 0.0)
    bo = SipUser(1, "acme.example", 8, "1002", "Bo", {})
    registrar.register(_register(["<sip:b@y.invalid;transport=ws>"]), bo, other_tab, 0.0)
    assert registrar.flow_failed(tab, 1.0) == [USER.user_id]
    assert [b.received for b in registrar.location.current(USER.user_id, 1.0)] == [str(SOURCE)]
    assert recorder.writes[-1][1:] == (USER.user_id, registrar.location.everything(USER.user_id))
    assert len(registrar.location.current(bo.user_id, 1.0)) == 1  # another flow: kept
    assert registrar.flow_failed(tab, 2.0) == []  # told twice: nothing more
    assert registrar.flow_failed(SOURCE, 2.0) == []  # UDP has no flow to fail


def test_a_device_that_moves_to_another_websocket_is_not_dropped_with_the_old_one() -> None:
    registrar, _ = _registrar()
    old, new = Source("WS", "192.0.2.1", 41000), Source("WS", "192.0.2.1", 41002)
    contact = "<sip:a@x.invalid;transport=ws>"
    registrar.register(_register([contact], cseq=1), USER, old, 0.0)
    registrar.register(_register([contact], cseq=2), USER, new, 1.0)  # it reconnected
    assert registrar.flow_failed(old, 2.0) == []
    assert [b.received for b in registrar.location.current(USER.user_id, 2.0)] == [str(new)]
