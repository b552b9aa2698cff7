"""P2/P3: a real softphone (baresip) registers with digest auth."""

from __future__ import annotations

from pathlib import Path

from tests.integration.baresip import Baresip
from tests.integration.conftest import DOMAIN, USERS
from tests.integration.peers import Server, vaxel_cli


def test_baresip_registers_with_digest(server: Server, provisioned: Path, tmp_path: Path) -> None:
    phone = Baresip(tmp_path / "phone", server, "1003", USERS["1003"][1], DOMAIN).start()
    try:
        phone.register()
        event = phone.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
        assert event is not None, phone.log_text()
        assert event["type"] == "REGISTER_OK", event
        assert "200 OK (Vaxel) [1 binding]" in phone.log_text()
        listing = vaxel_cli(provisioned, "registrations", "--company", DOMAIN)
        assert f"127.0.0.1:{phone.sip_port}" in listing.stdout, listing.stdout
        assert "baresip" in listing.stdout.lower(), listing.stdout
    finally:
        phone.stop()
    # On exit baresip unregisters (Expires: 0): the binding is gone.
    listing = vaxel_cli(provisioned, "registrations", "--company", DOMAIN)
    assert f"127.0.0.1:{phone.sip_port}" not in listing.stdout, listing.stdout


def test_baresip_with_wrong_password_fails(server: Server, tmp_path: Path) -> None:
    phone = Baresip(tmp_path / "phone", server, "1003", "wrong-password", DOMAIN).start()
    try:
        phone.register()
        event = phone.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
        assert event is not None and event["type"] == "REGISTER_FAIL", event
        assert "200 OK" not in phone.log_text()
    finally:
        phone.stop()
