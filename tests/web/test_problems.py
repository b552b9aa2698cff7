"""Problem details (P8, web/problems.py): an id in a path that no database can hold is a
422 problem+json that says so, never an error deep in the database driver."""

from __future__ import annotations

import pytest

from tests.web.conftest import Web

PROVIDER = "provider@vaxel.test"


HUGE = 2**70  # past any database's integer


@pytest.mark.parametrize(
    ("login", "method", "path"),
    [(PROVIDER, "DELETE", f"/api/v1/admins/{HUGE}"),
     ("1002@acme.example", "DELETE", f"/api/v1/tokens/{HUGE}"),
     ("1002@acme.example", "POST", f"/api/v1/me/shortcuts/{HUGE}/apply"),
     ("1002@acme.example", "DELETE", f"/api/v1/me/shortcuts/{HUGE}"),
     ("1002@acme.example", "GET",
      f"/api/v1/companies/acme.example/voicemail/1002/messages/{HUGE}/audio"),
     ("1002@acme.example", "DELETE",
      f"/api/v1/companies/acme.example/voicemail/1002/messages/{HUGE}")],
)  # fmt: skip
def test_an_id_no_database_holds_is_a_422_that_says_so(
    web: Web, login: str, method: str, path: str
) -> None:
    with web.login(login) as client:
        answer = client.request(method, path)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert "less than or equal to 9223372036854775807" in answer.text
