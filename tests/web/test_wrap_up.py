"""A5: an agent ends their own wrap-up from the API (`POST /api/v1/me/wrap-up/end`): 204,
and the queue's waiting caller rings them; another company's user ends nothing of
Acme's; without a switch 503.

The switch's side is a real queue call on a switch in memory; the web asks it what the
running switch's link would (app.py `_end_wrap_up`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.features.conftest import PROMPTS, USERS
from tests.features.test_groups import not_rung_for, queued, talk_from_the_queue, with_wrap_up
from tests.memory import MemorySwitch
from tests.web.conftest import Web
from vaxel.app import _end_wrap_up
from vaxel.features.groups import RETRY_PAUSE
from vaxel.services import companies


@pytest.fixture
def switch(tmp_path: Path, tone_prompts: Path, web: Web) -> Iterator[MemorySwitch]:
    made = MemorySwitch(
        tmp_path / "switch", tone_prompts, description=with_wrap_up(60), prompts=PROMPTS,
        user_names=USERS,
    )  # fmt: skip
    acme = companies.get_company(web.store, "acme.example").id
    end = _end_wrap_up(made.core)

    async def end_wrap_up(company_id: int, extension: str) -> None:
        # (the web's Acme is the switch's company 1; any other company is not on it)
        end(1 if company_id == acme else 99, extension)

    web.context.end_wrap_up = end_wrap_up
    yield made
    web.context.end_wrap_up = None
    made.close()


def test_the_agent_ends_their_wrap_up_and_the_queue_rings_them(
    web: Web, switch: MemorySwitch
) -> None:
    bjorn = switch.phone("1002")
    talk_from_the_queue(switch, bjorn)
    not_rung_for(switch, bjorn, 4.0, queued(switch, bjorn))  # wrapping up (60 s)
    with web.login("2001@other.example") as other:  # another company: nothing of Acme's
        assert other.post("/api/v1/me/wrap-up/end").status_code == 204
    not_rung_for(switch, bjorn, RETRY_PAUSE + 0.5, len(bjorn.invites))
    with web.login("1002@acme.example") as bo:
        ended = bo.post("/api/v1/me/wrap-up/end")
    assert ended.status_code == 204, ended.text
    switch.until(lambda: bjorn.ringing() is not None, RETRY_PAUSE + 0.2)


def test_without_a_switch_there_is_no_wrap_up(web: Web) -> None:
    with web.login("1002@acme.example") as bo:
        assert bo.post("/api/v1/me/wrap-up/end").status_code == 503


def test_an_admin_ends_an_agents_wrap_up_and_a_colleague_cannot(
    web: Web, switch: MemorySwitch
) -> None:
    bjorn = switch.phone("1002")
    talk_from_the_queue(switch, bjorn)
    not_rung_for(switch, bjorn, 4.0, queued(switch, bjorn))
    url = "/api/v1/companies/acme.example/agents/1002/wrap-up/end"
    with web.login("2001@other.example") as other:
        assert other.post(url).status_code == 404  # another company's: as if not there
    with web.login("1002@acme.example") as bo:  # a user: only their own
        refused = bo.post("/api/v1/companies/acme.example/agents/1001/wrap-up/end")
        assert refused.status_code == 403
    with web.login("1001@acme.example") as anna:
        unknown = anna.post("/api/v1/companies/acme.example/agents/1999/wrap-up/end")
        assert unknown.status_code == 404
        ended = anna.post(url)
    assert ended.status_code == 204, ended.text
    switch.until(lambda: bjorn.ringing() is not None, 0.5)  # at once, not at a next try
