"""The callback list page (A5, A1, A18): an agent sees today's callbacks and the ones still
waiting, in their language; another company's never; htmx's refresh gets the table alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.web.conftest import Web
from tests.web.pages import log_in, text_of
from vaxel.services import callbacks
from vaxel.services.callbacks import CallbackChange
from vaxel.services.companies import get_company


def change(web: Web, domain: str, key: str, status: str, asked: datetime, **more: object) -> None:
    values: dict[str, object] = {
        "company_id": get_company(web.store, domain).id, "key": key, "group": "line",
        "number": f"070-{key}", "caller": "+46701740605", "source": "queue",
        "requested_at": asked, "status": status, "attempts": 0, "agent": "", "at": asked,
    }  # fmt: skip
    values.update(more)
    callbacks.write_change(web.store, CallbackChange(**values))  # type: ignore[arg-type]


def test_an_agent_sees_todays_callbacks_and_the_ones_still_waiting(web: Web) -> None:
    now = datetime.now(UTC)
    change(web, "acme.example", "today", "done", now, agent="1003",
           attempts=1)  # fmt: skip
    change(web, "acme.example", "old", "waiting", now - timedelta(days=3))
    change(web, "acme.example", "olddone", "done", now - timedelta(days=3))
    change(web, "other.example", "theirs", "waiting", now)
    with log_in(web, "1002@acme.example") as agent:
        page = agent.get("/callbacks")
        rows = agent.get("/callbacks", headers={"HX-Request": "true"})
    assert page.status_code == 200
    seen = text_of(page.text)
    assert "070-today" in seen and "Done" in seen and "1003" in seen
    assert "070-old" in seen and "Waiting" in seen
    assert "070-olddone" not in seen and "070-theirs" not in seen
    assert 'hx-trigger="every 10s"' in page.text
    assert "<html" not in rows.text and "070-today" in rows.text  # the table alone


def test_swedish_and_an_empty_list(web: Web) -> None:
    with log_in(web, "1002@acme.example", lang="sv") as agent:
        page = agent.get("/callbacks").text
    assert "Inga återuppringningar i dag." in text_of(page)


def test_the_page_needs_a_login(web: Web) -> None:
    from httpx import Client

    with Client(base_url=web.base, follow_redirects=False) as anonymous:
        answer = anonymous.get("/callbacks")
    assert answer.status_code in (302, 303) and "/login" in answer.headers["location"]
