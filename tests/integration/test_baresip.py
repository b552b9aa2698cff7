"""P2/P3: a real softphone (baresip) registers with digest auth."""

from __future__ import annotations

from pathlib import Path

from tests.integration.baresip import Baresip
from tests.integration.conftest import DOMAIN, USERS
from tests.integration.peers import Server, vaxel_cli


def test_baresip_registers_with_digest(server: Server, provisioned: Path, tmp_path: Path) -> None:
    phone = Baresip(tmp_path / "phone", server, "1003", USERS["1003"][1], DOMAIN).start()
    try:
        outcome = phone.wait_log(r"1003@demo\.vaxel\.test: \{0/UDP/v4\} (\d{3}) .*", timeout=15)
        assert outcome is not None, phone.log_text()
        assert outcome.group(1) == "200" and "[1 binding]" in outcome.group(0), outcome.group(0)
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
        failed = phone.wait_log(r"reg: sip:1003@demo\.vaxel\.test: (\d{3}) ", timeout=15)
        assert failed is not None, phone.log_text()
        assert failed.group(1) in ("401", "403"), failed.group(0)
        assert "200 OK" not in phone.log_text()
    finally:
        phone.stop()
