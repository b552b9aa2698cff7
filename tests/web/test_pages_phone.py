"""The softphone page /phone (U1, U3) over real HTTP: what it carries (and does not), the
web app manifest, the service worker and the icons."""

from __future__ import annotations

import json
import re
import struct
import zlib

from tests.web.conftest import SIP_PASSWORD, Web
from tests.web.pages import log_in, text_of
from vaxel.services import users
from vaxel.web.pages.base import CSP


def _data(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="phone-data">(.*?)</script>', page)
    assert found is not None
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_the_page_has_the_app_and_no_sip_secret(web: Web) -> None:
    with log_in(web, "1002@acme.example") as bo:
        response = bo.get("/phone")
        page = response.text
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["cache-control"] == "no-store"
    assert '<link rel="manifest" href="/phone/manifest.webmanifest">' in page
    assert '<script type="module" src="/static/phone/phone.js"></script>' in page
    assert "<script>" not in page and " style=" not in page  # the CSP allows neither
    data = _data(page)
    assert {k: data[k] for k in ("extension", "domain", "name", "lang")} == {
        "extension": "1002", "domain": "acme.example", "name": "Bo User", "lang": "en"}  # fmt: skip
    assert data["texts"]["phone.answer"] == "Answer"  # type: ignore[index]
    # The SIP credential is fetched by the script, never in the page (nor the desk one).
    assert SIP_PASSWORD not in page and "-web" not in page and "ha1" not in page
    found = users.find_sip_user(web.store, "acme.example", "1002")
    assert found is not None and found.web_ha1 is None  # the page alone makes none
    # Bo is in the group "sales" (logged in): its switch is there.
    assert 'data-group="sales" checked' in page
    assert "Logged in to sales" in text_of(page)


def test_the_page_speaks_swedish_and_needs_a_login(web: Web) -> None:
    with web.client() as nobody:
        anonymous = nobody.get("/phone", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    with log_in(web, "1002@acme.example", lang="sv") as bo:
        page = bo.get("/phone").text
    assert '<html lang="sv">' in page and "Knappsats" in page
    assert _data(page)["texts"]["phone.answer"] == "Svara"  # type: ignore[index]
    with log_in(web, "provider@vaxel.test") as provider:
        none = provider.get("/phone")
    assert none.status_code == 404


def test_the_manifest_makes_it_installable(web: Web) -> None:
    with web.client() as anyone:  # a browser fetches the manifest without cookies
        response = anyone.get("/phone/manifest.webmanifest", headers={"Accept-Language": "sv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["start_url"] == manifest["scope"] == manifest["id"] == "/phone"
    assert manifest["display"] == "standalone" and manifest["name"] == "Vaxel telefon"
    sizes = {icon["sizes"]: icon for icon in manifest["icons"]}
    assert sizes["any"]["type"] == "image/svg+xml" and {"192x192", "512x512"} <= set(sizes)


def test_the_icons_are_real_pngs_of_their_size(web: Web) -> None:
    with web.client() as anyone:
        for size in (192, 512):
            png = anyone.get(f"/phone/icon-{size}.png")
            assert png.status_code == 200 and png.headers["content-type"] == "image/png"
            body = png.content
            assert body[:8] == b"\x89PNG\r\n\x1a\n"
            width, height = struct.unpack(">II", body[16:24])
            assert (width, height) == (size, size)
            idat = body.index(b"IDAT")
            length = struct.unpack(">I", body[idat - 4 : idat])[0]
            raw = zlib.decompress(body[idat + 4 : idat + 4 + length])
            assert len(raw) == size * (1 + 3 * size)
            assert b"\xff\xff\xff" in raw and bytes.fromhex("1d4e89") in raw  # the V on blue
        assert anyone.get("/phone/icon-100.png").status_code == 404
        svg = anyone.get("/static/phone/icon.svg")
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")


def test_the_service_worker_is_served_for_the_apps_scope(web: Web) -> None:
    with web.client() as anyone:
        response = anyone.get("/phone/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["service-worker-allowed"] == "/phone"
    assert 'addEventListener("fetch"' in response.text
    # The page and the API are never kept by it: only the app's own files are.
    assert '"/phone"' not in response.text.split("const FILES")[1].split("];")[0]
    assert "/api/" not in response.text.split("const FILES")[1].split("];")[0]


def test_the_users_page_links_to_the_phone(web: Web) -> None:
    with log_in(web, "1002@acme.example") as bo:
        page = bo.get("/me").text
    assert 'href="/phone"' in page
