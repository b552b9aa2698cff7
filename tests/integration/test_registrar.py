"""P3 registrar over real UDP: expiry rules, removal, several devices, tenants, live CLI changes."""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.conftest import DOMAIN, USERS, provision
from tests.integration.peers import Server, free_port, vaxel_cli
from tests.integration.sipclient import RegisterClient


def _client(server: Server, ext: str = "1001", **kw: str) -> RegisterClient:
    return RegisterClient(server, kw.get("user", ext), kw.get("password", USERS[ext][1]), DOMAIN)


def _contacts(response) -> list[str]:  # type: ignore[no-untyped-def]
    return response.headers.values("Contact")


def test_too_brief_expires_gets_423_with_min_expires(server: Server) -> None:
    with _client(server) as ua:
        response = ua.register(contact=ua.contact(), expires=10)
    assert response.status == 423
    assert response.headers.get("Min-Expires") == "60"


def test_expires_above_maximum_is_clamped(server: Server) -> None:
    with _client(server) as ua:
        response = ua.register(contact=ua.contact(), expires=999999)
        assert response.status == 200
        (contact,) = [c for c in _contacts(response) if str(ua.sock.port) in c]
        assert int(re.search(r"expires=(\d+)", contact).group(1)) <= 3600  # type: ignore[union-attr]
        ua.register(contact=ua.contact(), expires=0)


def test_refresh_then_remove_one_then_wildcard_removes_all(server: Server) -> None:
    port_a, port_b = free_port(), free_port()
    with _client(server, "1003") as ua:
        assert ua.register(contact=ua.contact(port_a), expires=300).status == 200
        both = ua.register(contact=ua.contact(port_b), expires=600)
        assert both.status == 200
        assert {str(port_a), str(port_b)} <= {
            m for c in _contacts(both) for m in re.findall(r":(\d+)>", c)
        }
        refreshed = ua.register(contact=ua.contact(port_a), expires=900)
        (a,) = [c for c in _contacts(refreshed) if f":{port_a}>" in c]
        assert 890 <= int(a.rsplit("=", 1)[1]) <= 900
        removed = ua.register(contact=ua.contact(port_a), expires=0)
        assert removed.status == 200
        assert [c for c in _contacts(removed) if f":{port_a}>" in c] == []
        assert [c for c in _contacts(removed) if f":{port_b}>" in c]
        cleared = ua.register(contact="*", expires=0)
        assert cleared.status == 200
        assert _contacts(cleared) == []


def test_wildcard_needs_expires_zero(server: Server) -> None:
    with _client(server) as ua:
        assert ua.register(contact="*", expires=3600).status == 400


def test_sha256_digest_when_offered(provisioned: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VAXEL_DIGEST_ALGORITHMS", "SHA-256,MD5")
    server = Server(provisioned).start()
    try:
        with _client(server) as ua:
            challenge = ua.exchange(ua.request([f"Contact: {ua.contact()}"]))
            offered = challenge.headers.get_all("WWW-Authenticate")
            assert "algorithm=SHA-256" in offered[0] and "algorithm=MD5" in offered[1]
            response = ua.register(contact=ua.contact(), expires=120)
            assert response.status == 200
            ua.register(contact=ua.contact(), expires=0)
    finally:
        server.stop()


_NONCE = re.compile(r'(nonce|opaque)="[^"]*"')


def _challenge_shape(response) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    """Status and header names/values with the per-request nonce masked."""
    shape = [
        name + ": " + _NONCE.sub(r"\1=X", value)
        for name, value in response.headers
        if name not in ("Via", "From", "To", "Call-ID", "CSeq")
    ]
    return response.status, shape


def test_wrong_password_unknown_user_and_other_company_look_the_same(
    tmp_path: Path,
) -> None:
    provision(tmp_path)
    provision(tmp_path, "other.vaxel.test", {"1009": ("Olle", "other-secret-9")})
    server = Server(tmp_path).start()
    try:
        answers = []
        for user, password in (
            ("1001", "wrong-password"),  # right user, wrong password
            ("1077", "whatever-pass"),  # no such user
            ("1009", "other-secret-9"),  # a user of another company, with its own password
        ):
            with RegisterClient(server, user, password, DOMAIN) as ua:
                answers.append(_challenge_shape(ua.register(contact=ua.contact())))
        assert answers[0][0] == 401
        assert answers[0] == answers[1] == answers[2]
        with RegisterClient(server, "1009", "other-secret-9", "other.vaxel.test") as ua:
            assert ua.register(contact=ua.contact(), expires=120).status == 200
    finally:
        server.stop()


def test_cli_changes_take_effect_while_serving(tmp_path: Path) -> None:
    provision(tmp_path)
    server = Server(tmp_path).start()
    try:
        added = vaxel_cli(
            tmp_path, "user", "add", "--company", DOMAIN, "--ext", "1050", "--name", "Nils",
            "--password", "nils-secret-50",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        with RegisterClient(server, "1050", "nils-secret-50", DOMAIN) as ua:
            assert ua.register(contact=ua.contact(), expires=120).status == 200
        changed = vaxel_cli(
            tmp_path, "user", "password", "--company", DOMAIN, "--ext", "1050",
            "--password", "nils-new-secret",
        )  # fmt: skip
        assert changed.returncode == 0, changed.stderr
        with RegisterClient(server, "1050", "nils-secret-50", DOMAIN) as ua:
            assert ua.register(contact=ua.contact(), expires=120).status == 401
        with RegisterClient(server, "1050", "nils-new-secret", DOMAIN) as ua:
            assert ua.register(contact=ua.contact(), expires=120).status == 200
    finally:
        server.stop()
