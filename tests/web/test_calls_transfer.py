"""`POST /api/v1/calls/{id}/transfer` (P4, P8): who may ask for what, and how the
switch's refusals read over HTTP. The switch is stood in for by a recorder here; the
transfer itself, with a running switch and pjsua2 phones, is in
tests/integration/test_api_transfer.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web.conftest import Web
from vaxel.features.transfer import TransferError

Asked = tuple[int, str, str | None, str | None, bool, str]


@pytest.fixture
def asked(web: Web) -> Iterator[list[Asked]]:
    """What the web asked the stand-in switch; "busy" calls are 409, "gone" 404."""
    seen: list[Asked] = []

    async def transfer(
        company_id: int, call_id: str, requester: str | None, party: str | None,
        admin: bool, to: str,
    ) -> tuple[str, str, str]:  # fmt: skip
        seen.append((company_id, call_id, requester, party, admin, to))
        if call_id == "gone":
            raise TransferError(404, "no such call")
        if call_id == "busy":
            raise TransferError(409, "the call is not connected")
        return party or requester or "", "1001", to

    web.context.transfer = transfer
    yield seen
    web.context.transfer = None


def test_without_a_switch_it_is_503(web: Web) -> None:
    with web.token("1002@acme.example", ["read", "write", "calls"]) as bo:
        answer = bo.post("/api/v1/calls/c1/transfer", json={"to": "1003"})
    assert answer.status_code == 503, answer.text


def test_a_user_transfers_as_themselves_only(web: Web, asked: list[Asked]) -> None:
    with web.token("1002@acme.example", ["read", "write", "calls"]) as bo:
        done = bo.post("/api/v1/calls/c1/transfer", json={"to": " 1003 "})
        other = bo.post("/api/v1/calls/c1/transfer", json={"to": "1003", "party": "1001"})
        gone = bo.post("/api/v1/calls/gone/transfer", json={"to": "1003"})
        busy = bo.post("/api/v1/calls/busy/transfer", json={"to": "1003"})
    assert done.status_code == 202, done.text
    assert done.json() == {"call_id": "c1", "party": "1002", "transferred": "1001", "to": "1003"}
    assert other.status_code == 403  # not asked at all
    assert (gone.status_code, busy.status_code) == (404, 409)
    assert [a[2:] for a in asked] == [
        ("1002", None, False, "1003"), ("1002", None, False, "1003"),
        ("1002", None, False, "1003"),
    ]  # fmt: skip


def test_an_admin_names_the_party_and_a_provider_sees_no_calls(
    web: Web, asked: list[Asked]
) -> None:
    with web.token("1001@acme.example", ["read", "write", "calls"]) as anna:
        done = anna.post("/api/v1/calls/c1/transfer", json={"to": "1003", "party": "1002"})
    assert done.status_code == 202 and done.json()["party"] == "1002"
    with web.token("1001@acme.example", ["read", "write"]) as without:
        assert without.post("/api/v1/calls/c1/transfer", json={"to": "1003"}).status_code == 403
    with web.login("provider@vaxel.test") as provider:
        assert provider.post("/api/v1/calls/c1/transfer", json={"to": "1"}).status_code == 404
    assert [a[2:] for a in asked] == [("1001", "1002", True, "1003")]
