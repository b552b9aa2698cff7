"""A change made through the API takes effect on the next call, with third-party phones
(pjsua2) on a real `vaxel serve` (P8, S3, U9).

Acme AB's admin (a web login made with `vaxel company admin`) moves the menu's key 2 from
Cecilia to Björn by PUT of the whole description; the next caller who presses 2 rings
Björn. Björn sets "Lunch" until later through `PUT /api/v1/me/diversion`; Anna's next
call to him does not ring his phone, and she hears that he is at lunch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.integration.acme import ALWAYS, DOMAIN, MAIN, PASSWORDS, Mailbox, company
from tests.integration.audio import RATE, g711_levels
from tests.integration.peers import Server, rtp_ports, vaxel_cli
from tests.integration.pjsua import PjPhone, close_all, hears, hears_voice

WEB_PASSWORD = "web password 1"


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]) -> Iterator[Server]:
    data, trunk = company(tmp_path_factory.mktemp("acme-api"), ALWAYS, smtp[0])
    for ext, role in (("1001", ()), ("1002", ("--revoke",))):
        made = vaxel_cli(
            data, "company", "admin", DOMAIN, "--ext", ext, "--password", WEB_PASSWORD, *role
        )
        assert made.returncode == 0, made.stderr
    server = Server(data).start("--rtp-ports", rtp_ports())
    server.trunk = trunk  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture
def phones(acme: Server) -> Iterator[list[PjPhone]]:
    started: list[PjPhone] = []
    yield started
    close_all(started)


@contextlib.contextmanager
def logged_in(server: Server, login: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.web, timeout=30) as client:
        answer = client.post("/api/v1/login", json={"login": login, "password": WEB_PASSWORD})
        assert answer.status_code == 200, answer.text
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        yield client


def test_a_menu_changed_through_the_api_routes_the_next_call(
    acme: Server, phones: list[PjPhone]
) -> None:
    bjorn = PjPhone(acme.address, "1002", PASSWORDS["1002"], DOMAIN)
    cecilia = PjPhone(acme.address, "1003", PASSWORDS["1003"], DOMAIN)
    phones += [bjorn, cecilia]
    bjorn.registered()
    cecilia.registered()
    with logged_in(acme, f"1001@{DOMAIN}") as admin:
        url = f"/api/v1/companies/{DOMAIN}/config"
        read = admin.get(url)
        description = read.json()
        assert description["menus"]["main"]["keys"]["2"] == {"user": "1003"}
        description["menus"]["main"]["keys"]["2"] = {"user": "1002"}
        changed = admin.put(url, json=description, headers={"If-Match": read.headers["etag"]})
        assert changed.status_code == 200, changed.text

    carrier = PjPhone(
        acme.address, "+46701740605", "", "carrier.test", port=acme.trunk,  # type: ignore[attr-defined]
        register=False, name="carrier",
    )  # fmt: skip
    phones.append(carrier)
    call = carrier.call(f"sip:{MAIN}@carrier.test")
    carrier.state(call, "CONFIRMED")
    menu = acme.data / "prompts" / DOMAIN / "menu.wav"
    assert hears(carrier, call, menu, 0.3), "no menu"
    carrier.press(call, "2")
    ringing = bjorn.incoming(timeout=10)
    assert "+46701740605" in ringing["from"], ringing
    assert cecilia.event("incoming", timeout=0.5) is None, "key 2 still rang Cecilia"
    carrier.hangup(call)


def test_a_diversion_set_through_the_api_is_heard_on_the_next_call(
    acme: Server, phones: list[PjPhone], system_prompts: Path
) -> None:
    bjorn = PjPhone(acme.address, "1002", PASSWORDS["1002"], DOMAIN)
    phones.append(bjorn)
    bjorn.registered()
    until = datetime.now(UTC) + timedelta(hours=2)
    with logged_in(acme, f"1002@{DOMAIN}") as user:
        answer = user.put(
            "/api/v1/me/diversion", json={"text": "Lunch", "until": until.isoformat()}
        )
        assert answer.status_code == 200, answer.text

    anna = PjPhone(acme.address, "1001", PASSWORDS["1001"], DOMAIN, register=False)
    phones.append(anna)
    call = anna.call("1002")
    anna.state(call, "CONFIRMED")  # the switch answers for him
    en = system_prompts / "en"
    assert hears(anna, call, en / "div-lunch.wav", 0.5), "not told he is at lunch"
    assert hears(anna, call, en / "div-press-1-voicemail.wav", 0.5), "not offered voicemail"
    assert bjorn.event("incoming", timeout=0.5) is None, "Björn's phone rang"
    anna.hangup(call)
    anna.state(call, "DISCONNECTED")

    with logged_in(acme, f"1002@{DOMAIN}") as user:
        assert user.delete("/api/v1/me/diversion").status_code == 204
    again = anna.call("1002")
    ringing = bjorn.incoming(timeout=10)
    assert "1001" in ringing["from"], "the diversion did not end"
    anna.hangup(again)


def voice(seconds: float, seed: int) -> np.ndarray:
    """A tone in noise at A-law levels: no two stretches alike, so pieces are found again."""
    t = np.arange(int(RATE * seconds)) / RATE
    rng = np.random.default_rng(seed)
    samples = 3000 * np.sin(2 * np.pi * 350 * t) + rng.normal(0, 800, t.size)
    return g711_levels(samples.astype(np.int16))


def test_click_to_call_rings_my_phone_then_the_colleague(
    acme: Server, phones: list[PjPhone], system_prompts: Path
) -> None:
    """POST /api/v1/calls: Björn's phone rings showing Anna's number; he answers and hears
    ringback while Anna's phone rings showing his; she answers and they hear each other.
    The call record says Björn called Anna."""
    anna = PjPhone(acme.address, "1001", PASSWORDS["1001"], DOMAIN)
    bjorn = PjPhone(acme.address, "1002", PASSWORDS["1002"], DOMAIN)
    phones += [anna, bjorn]
    anna.registered()
    bjorn.registered()
    with logged_in(acme, f"1002@{DOMAIN}") as user:
        placed = user.post("/api/v1/calls", json={"to": "1001"})
        unknown = user.post("/api/v1/calls", json={"to": "1099"})
        barred = user.post("/api/v1/calls", json={"to": "0900123456"})
    assert placed.status_code == 202, placed.text
    assert placed.json()["to"] == "1001"
    assert unknown.status_code == 404 and barred.status_code == 403, (unknown.text, barred.text)

    mine = bjorn.incoming(timeout=10)
    assert "1001" in mine["from"], mine  # his phone shows whom it is about to call
    assert anna.event("incoming", timeout=0.5) is None, "Anna rang before Björn answered"
    bjorn.answer(mine["call"])
    bjorn.state(mine["call"], "CONFIRMED")
    assert hears(bjorn, mine["call"], system_prompts / "sv" / "ringback.wav", 0.5)
    theirs = anna.incoming(timeout=10)
    assert "1002" in theirs["from"], theirs
    anna.answer(theirs["call"])
    anna.state(theirs["call"], "CONFIRMED")
    said = voice(2.0, seed=31)
    bjorn.play(mine["call"], said)
    back = voice(2.0, seed=32)
    anna.play(theirs["call"], back)
    a_heard = hears_voice(anna, theirs["call"], said, RATE)
    b_heard = hears_voice(bjorn, mine["call"], back, RATE)
    assert a_heard >= RATE and b_heard >= RATE, (a_heard, b_heard)
    bjorn.hangup(mine["call"])
    anna.state(theirs["call"], "DISCONNECTED", timeout=15)
    with logged_in(acme, f"1001@{DOMAIN}") as admin:
        calls = admin.get(f"/api/v1/companies/{DOMAIN}/calls", params={"user": "1002"})
    (record, *_) = calls.json()["items"]
    assert (record["caller"], record["callee"], record["disposition"]) == (
        "1002",
        "1001",
        "answered",
    )
    assert record["answered_by"] == "1001"
