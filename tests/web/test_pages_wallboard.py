"""The wallboard's pages (A11): /wallboard, the same for everyone (no login, no company's
data, no inline script, in Swedish and English), and /admin/wallboard, where a company
admin makes a token (its address shown once), revokes it, and nobody else may."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from tests.web.conftest import Client, Web
from tests.web.pages import csrf_of, log_in, text_of
from vaxel.services import wallboard_tokens
from vaxel.services.companies import get_company
from vaxel.web.pages.base import CSP


def test_the_wallboard_page_needs_no_login_and_holds_no_company(web: Web) -> None:
    with Client(base_url=web.base, timeout=30, follow_redirects=False) as tv:
        page = tv.get("/wallboard", headers={"Accept-Language": "sv-SE"})
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP  # scripts from this site only
    assert page.headers["cache-control"] == "no-store"
    assert '<html lang="sv">' in page.text and "Väggtavla" in page.text
    assert "acme" not in page.text.lower()
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
    data = json.loads(re.search(r'id="wallboard-data">(.*?)</script>', page.text).group(1))  # type: ignore[union-attr]
    assert data["chosen"] is None
    assert data["words"]["en"]["longest_wait"] == "Longest wait"
    assert data["words"]["sv"]["longest_wait"] == "Längsta väntetid"
    assert set(data["words"]["en"]) == set(data["words"]["sv"])


def made_url(page: str) -> str:
    found = re.search(r'<input id="made" type="text" readonly value="([^"]+)"', page)
    assert found is not None, text_of(page)
    return found.group(1)


def test_an_admin_makes_a_token_sees_its_address_once_and_revokes_it(web: Web) -> None:
    acme = get_company(web.store, "acme.example").id
    with log_in(web, "1001@acme.example") as admin:
        listing = admin.get("/admin/wallboard")
        assert listing.status_code == 200 and 'href="/admin/wallboard"' in listing.text
        made = admin.post("/admin/wallboard", data={"csrf": csrf_of(listing.text), "name": "TV 1"})
        assert made.status_code == 200 and "The wallboard token TV 1 is made." in text_of(made.text)
        url = made_url(made.text)
        assert url.startswith(f"{web.base}/wallboard#vxw_")
        token = url.split("#", 1)[1]
        assert wallboard_tokens.find(web.store, token) == (acme, "acme.example")
        again = admin.get("/admin/wallboard").text
        assert "TV 1" in again and token not in again  # never shown again
        token_id = re.search(r'action="/admin/wallboard/(\d+)/revoke"', again)
        assert token_id is not None
        revoked = admin.post(f"/admin/wallboard/{token_id.group(1)}/revoke",
                             data={"csrf": csrf_of(again)})  # fmt: skip
        assert revoked.status_code == 303
        assert revoked.headers["location"] == "/admin/wallboard?done=revoked"
        assert wallboard_tokens.find(web.store, token) is None
        nameless = admin.post("/admin/wallboard", data={"csrf": csrf_of(again), "name": ""})
        assert nameless.status_code == 422 and "printable characters" in nameless.text


def test_only_the_companys_admins_reach_the_tokens(web: Web) -> None:
    acme = get_company(web.store, "acme.example").id
    token, info = wallboard_tokens.create(web.store, acme, "Acme's TV", "1001", datetime.now(UTC))
    with log_in(web, "1002@acme.example") as user:
        assert user.get("/admin/wallboard").status_code == 403
    with log_in(web, "2001@other.example") as other:
        page = other.get("/admin/wallboard")
        assert page.status_code == 200 and "There are no wallboard tokens." in text_of(page.text)
        csrf = csrf_of(page.text)
        refused = other.post(f"/admin/wallboard/{info.id}/revoke", data={"csrf": csrf})
        assert refused.status_code == 404  # another company's token: as none
        assert other.get("/admin/wallboard?company=acme.example").status_code == 404
    assert wallboard_tokens.find(web.store, token) == (acme, "acme.example")
