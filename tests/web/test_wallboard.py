"""A11 over the API and the wallboard's socket, against the real server: the queues live
while callers wait (a real queue call on a switch in memory), the wallboard's settings
checked like the rest of the description, and its read-only tokens: made and revoked by an
admin, shown once, opening the wallboard of their company and nothing else (not the API,
not the live events); a revoked token's wallboard closed at its next update, with the
same close as a token never made."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.features.conftest import DESCRIPTION, PROMPTS, USERS, in_the_menu
from tests.memory import MemorySwitch
from tests.web.conftest import Web
from tests.web.test_events import closed_with, cookie_of, url
from vaxel.app import _queue_live
from vaxel.features.queue_live import QueueNow, Waiting
from vaxel.services import companies
from vaxel.web import events, wallboard

LIVE = "/api/v1/companies/acme.example/statistics/queues/live"
SETTINGS = "/api/v1/companies/acme.example/wallboard"
TOKENS = "/api/v1/companies/acme.example/wallboard/tokens"


@pytest.fixture
def switch(tmp_path: Path, tone_prompts: Path, web: Web) -> Iterator[MemorySwitch]:
    """Acme's queue on a switch in memory, asked by the web as the running switch's link
    would (app.py `_queue_live`): the web's Acme is the switch's company 1."""
    made = MemorySwitch(
        tmp_path / "switch", tone_prompts, description=DESCRIPTION, prompts=PROMPTS,
        user_names=USERS,
    )  # fmt: skip
    acme = companies.get_company(web.store, "acme.example").id
    live = _queue_live(made.core)

    async def queue_live(company_id: int) -> list[QueueNow]:
        return live(1 if company_id == acme else 99)

    web.context.queue_live = queue_live
    yield made
    web.context.queue_live = None
    made.close()


@pytest.fixture
def fixed(web: Web) -> Iterator[list[QueueNow]]:
    """A switch whose queues are what the test puts here (the push is what is tested)."""
    queues: list[QueueNow] = [QueueNow("queue", (), (("1002", "free"),))]

    async def queue_live(company_id: int) -> list[QueueNow]:
        return list(queues)

    web.context.queue_live = queue_live
    yield queues
    web.context.queue_live = None


def test_the_queues_live_while_a_caller_waits(web: Web, switch: MemorySwitch) -> None:
    caller = in_the_menu(switch)
    caller.press("3")
    switch.advance(4.0)  # waits 4 s (Björn has no phone: nobody rings)
    with web.login("1002@acme.example") as bo:  # a user of the company may read it
        answer = bo.get(LIVE)
    assert answer.status_code == 200, answer.text
    (queue,) = answer.json()["queues"]
    assert queue["group"] == "queue" and queue["waiting"] == 1
    (waiting,) = queue["callers"]
    assert waiting["caller"] == "+46701740605"
    assert 3.9 < waiting["waited"] == queue["longest_wait"] < 4.5
    assert queue["agents"] == {"logged_in": 1, "free": 1, "busy": 0, "wrap_up": 0, "paused": 0}
    assert (queue["offered"], queue["missed"], queue["service_level"]) == (0, 0, None)
    # 4 s: under the default 30 s amber; 1 agent logged in: fewer than 2, red
    assert queue["alarms"] == {"logged_in": "red"}
    caller.hang_up()
    switch.run()
    with web.login("1002@acme.example") as bo:
        (queue,) = bo.get(LIVE).json()["queues"]
    assert (queue["waiting"], queue["callers"], queue["longest_wait"]) == (0, [], None)


def test_the_thresholds_of_the_description_turn_a_long_wait_red(
    web: Web, switch: MemorySwitch
) -> None:
    with web.login("1001@acme.example") as admin:
        put = admin.put(SETTINGS, json={"thresholds": {"longest_wait": {"amber": 1, "red": 3},
                        "logged_in": {}}}, headers={"If-Match": "*"})  # fmt: skip
        assert put.status_code == 200, put.text
        caller = in_the_menu(switch)
        caller.press("3")
        switch.advance(2.0)
        (queue,) = admin.get(LIVE).json()["queues"]
        assert queue["alarms"] == {"longest_wait": "amber"}
        switch.advance(2.0)
        (queue,) = admin.get(LIVE).json()["queues"]
        assert queue["alarms"] == {"longest_wait": "red"}
        caller.hang_up()


def test_another_company_sees_nothing_of_acmes_queues(web: Web, switch: MemorySwitch) -> None:
    with web.login("2001@other.example") as other:
        assert other.get(LIVE).status_code == 404
        mine = other.get("/api/v1/companies/other.example/statistics/queues/live")
        assert mine.status_code == 200 and mine.json()["queues"] == []
        assert other.get(TOKENS).status_code == 404
        assert other.post(TOKENS, json={"name": "TV"}).status_code == 404


def test_without_a_switch_nobody_knows_who_waits(web: Web) -> None:
    with web.login("1002@acme.example") as bo:
        assert bo.get(LIVE).status_code == 503


def test_the_wallboard_settings_are_checked_like_the_description(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        assert admin.get(SETTINGS).json() == {}
        etag = admin.get(SETTINGS).headers["ETag"]
        assert admin.put(SETTINGS, json={"theme": "dark"}).status_code == 428
        bad = admin.put(SETTINGS, json={"queues": ["sales", "nope"]}, headers={"If-Match": etag})
        assert bad.status_code == 422, bad.text
        assert bad.json()["errors"] == [
            'wallboard.queues.0: group "sales" has no queue',
            'wallboard.queues.1: unknown group "nope"',
        ]
        order = admin.put(SETTINGS, json={"thresholds": {"longest_wait": {"amber": 60, "red": 30}}},
                          headers={"If-Match": etag})  # fmt: skip
        assert order.status_code == 422 and "red must be at least amber" in order.text
        assert (
            admin.put(SETTINGS, json={"theme": "pink"}, headers={"If-Match": etag}).status_code
            == 422
        )
        good = admin.put(SETTINGS, json={"theme": "contrast", "service_level": 30},
                         headers={"If-Match": etag})  # fmt: skip
        assert good.status_code == 200 and good.json() == {"theme": "contrast", "service_level": 30}
        assert admin.put(SETTINGS, json={}, headers={"If-Match": etag}).status_code == 412
    with web.login("1002@acme.example") as bo:  # a user reads the figures, not the settings
        assert bo.get(SETTINGS).status_code == 403


# -- the read-only token --------------------------------------------------------------------


def make_token(web: Web, name: str = "TV in support") -> dict[str, Any]:
    with web.login("1001@acme.example") as admin:
        made = admin.post(TOKENS, json={"name": name})
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_a_token_is_shown_once_and_made_by_an_admin_only(web: Web) -> None:
    made = make_token(web)
    assert made["token"].startswith("vxw_") and made["url"].endswith(f"/wallboard#{made['token']}")
    with web.login("1001@acme.example") as admin:
        listed = admin.get(TOKENS).json()
        audit = admin.get("/api/v1/companies/acme.example/audit").text
    assert [t["name"] for t in listed] == ["TV in support"] and "token" not in listed[0]
    assert made["token"] not in audit and made["token"] not in web.store.url
    with web.login("1002@acme.example") as bo:
        assert bo.post(TOKENS, json={"name": "mine"}).status_code == 403
        assert bo.get(TOKENS).status_code == 403


def test_the_token_opens_no_api_and_no_live_events(web: Web, fixed: list[QueueNow]) -> None:
    token = make_token(web)["token"]
    with web.client() as tv:
        for path in (LIVE, "/api/v1/me", SETTINGS, TOKENS, "/api/v1/companies/acme.example"):
            answer = tv.get(path, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 401, (path, answer.text)
        page = tv.get("/admin", headers={"Cookie": f"vaxel_session={token}"})
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
    with connect(url(web), open_timeout=10) as client:
        client.send(json.dumps({"token": token}))
        assert closed_with(client) == events.POLICY


@contextmanager
def board(
    web: Web, first: dict[str, Any], query: str = "", **headers: str
) -> Iterator[ClientConnection]:
    """A wallboard's socket that sent its first message (a token, or {})."""
    address = web.base.replace("http://", "ws://", 1) + wallboard.PATH + query
    with connect(address, open_timeout=10, additional_headers=headers or None) as client:
        client.send(json.dumps(first))
        yield client


def figures(client: ClientConnection) -> dict[str, Any]:
    message = json.loads(client.recv(timeout=10))
    assert message["type"] == "figures", message
    return dict(message)


def test_the_wallboard_with_its_token_gets_figures_pushed_until_it_is_revoked(
    web: Web, fixed: list[QueueNow]
) -> None:
    made = make_token(web)
    with board(web, {"token": made["token"]}) as tv:
        first = figures(tv)
        assert first["company"] == "acme.example" and first["theme"] == "dark"
        (queue,) = first["queues"]
        assert queue["waiting"] == 0 and "callers" not in queue
        assert first["thresholds"] == {"longest_wait": {"amber": 30.0, "red": 60.0},
                                       "logged_in": {"amber": None, "red": 2.0}}  # fmt: skip
        fixed[0] = QueueNow("queue", (Waiting("c1", "+46701740605", "", 75.0),), ())
        web.publish(wallboard.QueueChanged(companies.get_company(web.store, "acme.example").id,
                    "queue", "c1", "+46701740605", "", True, 1, time.time()))  # fmt: skip
        started = time.monotonic()
        pushed = figures(tv)
        assert time.monotonic() - started < wallboard.TICK  # on the event, not the tick
        (queue,) = pushed["queues"]
        assert (queue["waiting"], queue["waits"], "callers" in queue) == (1, [75.0], False)
        assert queue["alarms"] == {"longest_wait": "red", "logged_in": "red"}
        with web.login("1001@acme.example") as admin:
            assert admin.delete(f"{TOKENS}/{made['id']}").status_code == 204
            assert admin.delete(f"{TOKENS}/{made['id']}").status_code == 404
        assert closed_with(tv, timeout=wallboard.TICK + 5) == wallboard.UNKNOWN
    with board(web, {"token": made["token"]}) as again:  # revoked: as one never made
        assert closed_with(again) == wallboard.UNKNOWN
    with board(web, {"token": "vxw_" + "x" * 43}) as unknown:
        assert closed_with(unknown) == wallboard.UNKNOWN


def test_a_session_of_the_company_shows_its_wallboard_another_company_none(
    web: Web, fixed: list[QueueNow]
) -> None:
    origin = web.base
    bo = cookie_of(web, "1002@acme.example")
    with board(web, {}, Cookie=f"vaxel_session={bo}", Origin=origin) as client:
        assert figures(client)["company"] == "acme.example"
    olle = cookie_of(web, "2001@other.example")
    with board(web, {}, "?company=acme.example", Cookie=f"vaxel_session={olle}",
               Origin=origin) as client:  # fmt: skip
        assert closed_with(client) == wallboard.UNKNOWN
    with board(web, {}) as nobody:
        assert closed_with(nobody) == wallboard.UNKNOWN
    # The other company's token opens its own wallboard, whatever the address asks for.
    with web.login("2001@other.example") as admin:
        token = admin.post("/api/v1/companies/other.example/wallboard/tokens",
                           json={"name": "TV"}).json()["token"]  # fmt: skip
    with board(web, {"token": token}, "?company=acme.example") as client:
        assert figures(client)["company"] == "other.example"
