"""Helpers for the page tests: a browser-like client that logs in through /login and
reads each page's CSRF token from its forms."""

from __future__ import annotations

import html
import re

from tests.web.conftest import PASSWORD, Client, Web

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found is not None, "the page has no form with a CSRF token"
    return html.unescape(found.group(1))


def log_in(web: Web, login: str, password: str = PASSWORD, lang: str = "en") -> Client:
    """A client logged in through the login page (no redirects followed: tests look at
    where each answer sends the browser). `lang` is the language cookie."""
    client = Client(base_url=web.base, timeout=30, follow_redirects=False)
    client.cookies.set("vaxel_lang", lang)
    response = client.post("/login", data={"login": login, "password": password})
    assert response.status_code == 303, response.text
    return client


def text_of(page: str) -> str:
    """The page's text without tags, whitespace squeezed: what a reader sees."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
