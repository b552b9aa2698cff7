"""Schemathesis over the API's own OpenAPI document (P8): generated requests, valid and
not, to every operation of a real server find no 5xx and no answer that breaks the
document's schema (status codes the document does not list are not checked: every
operation may answer 401, 403, 404, 412, 422 ... as problem details)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import PASSWORD, seed
from vaxel.features.agents import Agent
from vaxel.features.click_to_call import ClickToCallError
from vaxel.features.conference import room_action
from vaxel.features.queue_live import QueueNow
from vaxel.features.three_way import add_party
from vaxel.features.transfer import TransferError
from vaxel.store import Store
from vaxel.web.context import WebContext
from vaxel.web.launcher import listen
from vaxel.web.server import WebServer


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """One server for the whole run, with a company admin's token (read, write, calls)."""
    data = tmp_path_factory.mktemp("openapi")
    store = Store.open(data)
    seed(store, data)

    async def no_phones(company_id: int, domain: str, ext: str, number: str) -> tuple[str, str]:
        raise ClickToCallError(480, "none of your phones is registered")  # a switch, idle

    async def no_rooms(
        company_id: int, name: str, action: str, participant: str, value: bool
    ) -> tuple[str, object]:
        return room_action(None, name, action, participant, value)  # a switch, no rooms

    async def no_party(
        company_id: int, extension: str, call_id: str, to: str
    ) -> tuple[str, object]:
        return add_party(None, None, extension, to)  # a switch, no call in progress

    async def no_transfer(
        company_id: int, call_id: str, requester: str | None, party: str | None,
        admin: bool, to: str,
    ) -> tuple[str, str, str]:  # fmt: skip
        raise TransferError(404, "no such call")  # an idle switch has no live call

    async def no_recording(
        company_id: int, extension: str | None, call_id: str, action: str
    ) -> tuple[int, str]:
        return 404, "no such call"  # a switch with no call running

    async def no_wrap_up(company_id: int, extension: str) -> None:
        return None  # a switch where nobody is wrapping up (A5)

    async def no_queues(company_id: int) -> list[QueueNow]:
        return []  # a switch where nobody waits in a queue (A11)

    async def no_agents(company_id: int) -> list[Agent]:
        return []  # A5: a switch whose company has no group members

    async def no_console(
        company_id: int, operator: str, action: str, call_id: str, to: str
    ) -> tuple[str, object]:
        if action in ("calls", "busy"):
            return "ok", []  # A16: an idle switch: no call, nobody busy
        return "refused", (404, "no such call")

    context = WebContext(store, data, place_call=no_phones, conference=no_rooms,
                         add_party=no_party, transfer=no_transfer,
                         call_recording=no_recording, end_wrap_up=no_wrap_up,
                         queue_live=no_queues, agents=no_agents,
                         console=no_console)  # fmt: skip
    server = WebServer(context, listen("127.0.0.1", 0))
    loop = asyncio.new_event_loop()

    def run() -> None:
        async def main() -> None:
            server.start()
            assert server.task is not None
            await server.task

        loop.run_until_complete(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    with httpx.Client(base_url=server.address) as client:
        login = client.post(
            "/api/v1/login", json={"login": "1001@acme.example", "password": PASSWORD}
        )
        made = client.post(
            "/api/v1/tokens",
            json={"name": "schemathesis", "scopes": ["read", "write", "calls"]},
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
    token = made.json()["token"]
    yield server.address, {"Authorization": f"Bearer {token}"}
    server.server.force_exit = True
    loop.call_soon_threadsafe(setattr, server.server, "should_exit", True)
    thread.join(timeout=30)
    store.close()
    loop.close()


def test_no_server_errors_and_answers_match_the_schema(
    live: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    """Schemathesis's own runner (its command line), every phase: examples, coverage of
    edge values, fuzzing and stateful sequences; a fixed seed, so a failure repeats."""
    base, headers = live
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run", f"{base}/api/openapi.json",
        "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--max-examples", "10", "--seed", "20261205", "--generation-deterministic",
        # The runner's own session and token must live through the run.
        "--exclude-path-regex", "logout|/tokens/",
        "--report", "junit", "--report-dir", str(tmp_path),
        *(f"--header={name}:{value}" for name, value in headers.items()),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]


def test_the_document_is_openapi_3_1(tmp_path: Path, live: tuple[str, dict[str, str]]) -> None:
    base, _ = live
    document = httpx.get(f"{base}/api/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/companies/{domain}/config" in document["paths"]
    docs = httpx.get(f"{base}/api/docs")
    assert docs.status_code == 200 and "/static/vendor/swagger-ui/" in docs.text
