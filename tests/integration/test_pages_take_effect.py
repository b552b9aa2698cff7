"""What the admin pages show and change is the running switch's, with third-party phones
(pjsua2) on a real `vaxel serve` (S7, P1, P3, O2).

Björn's phone registers, and his page in the company admin's web lists it as the
registrar sees it: its user agent, transport and address. The provider unticks mobile
numbers on the company's page; Anna's next call to a mobile number is refused (403)
without reaching the carrier.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.acme import ALWAYS, DOMAIN, PASSWORDS, Mailbox, company
from tests.integration.peers import Server, rtp_ports, vaxel_cli
from tests.integration.pjsua import PjPhone, close_all

WEB_PASSWORD = "web password 1"
PROVIDER = "ops@provider.test"


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]) -> Iterator[Server]:
    data, _ = company(tmp_path_factory.mktemp("acme-pages"), ALWAYS, smtp[0])
    made = vaxel_cli(data, "company", "admin", DOMAIN, "--ext", "1001", "--password", WEB_PASSWORD)
    assert made.returncode == 0, made.stderr
    added = vaxel_cli(data, "admin", "add", PROVIDER, "--password", WEB_PASSWORD)
    assert added.returncode == 0, added.stderr
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server
    server.stop()


@pytest.fixture
def phones(acme: Server) -> Iterator[list[PjPhone]]:
    started: list[PjPhone] = []
    yield started
    close_all(started)


@contextlib.contextmanager
def pages(server: Server, login: str) -> Iterator[httpx.Client]:
    """A browser-like client logged in through the login page."""
    with httpx.Client(base_url=server.web, timeout=30) as client:
        client.cookies.set("vaxel_lang", "en")
        answer = client.post("/login", data={"login": login, "password": WEB_PASSWORD})
        assert answer.status_code == 303, answer.text
        yield client


def _text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_a_registered_phone_is_listed_on_the_users_page(
    acme: Server, phones: list[PjPhone]
) -> None:
    bjorn = PjPhone(acme.address, "1002", PASSWORDS["1002"], DOMAIN)
    phones.append(bjorn)
    bjorn.registered()
    with pages(acme, f"1001@{DOMAIN}") as admin:
        page = admin.get("/admin/users/1002").text
    table = page[page.index('<table id="devices">') :]
    rows = _text(table[: table.index("</table>")])
    assert "pjsua2 (Vaxel tests)" in rows, rows
    assert re.search(r"UDP 127\.0\.0\.1:\d+", rows), rows


def test_a_limit_set_on_the_providers_page_refuses_the_next_call(
    acme: Server, phones: list[PjPhone]
) -> None:
    anna = PjPhone(acme.address, "1001", PASSWORDS["1001"], DOMAIN)
    phones.append(anna)
    anna.registered()
    with pages(acme, PROVIDER) as provider:
        base = f"/provider/companies/{DOMAIN}"
        page = provider.get(base).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        form = page[page.index(f'action="{base}/outbound"') :]
        tag = re.search(r'name="tag" value="([^"]*)"', form)
        assert csrf is not None and tag is not None
        saved = provider.post(f"{base}/outbound", data={
            "csrf": csrf.group(1), "tag": tag.group(1).replace("&#34;", '"'),
            "allowed": ["national", "international"], "max_concurrent_calls": "10",
        }, follow_redirects=False)  # fmt: skip
        assert saved.status_code == 303, _text(saved.text)
    call = anna.call("0701740605")
    ended = anna.expect("call_state", call=call, state="DISCONNECTED", timeout=15)
    assert ended["code"] == 403, ended
