"""U10, U5: a baresip phone's contact list shows a colleague's line by presence (RFC 3856,
baresip's own presence module): Björn is online, busy while he talks, online again."""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests.integration.baresip import Baresip, established
from tests.integration.conftest import DOMAIN, USERS
from tests.integration.peers import Server

_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def status(phone: Baresip, name: str, wanted: str, timeout: float = 15.0) -> str:
    """What `phone`'s contact list says of `name`, once it says `wanted` (baresip tells
    no event for a change of presence, so its list is read until it does)."""
    deadline = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < deadline:
        listing = _COLOUR.sub("", str(phone.request("contacts")["data"]))
        line = next((row for row in listing.splitlines() if f" {name} <" in row), "")
        shown = line.split()[1] if len(line.split()) > 1 else ""
        if shown == wanted:
            return shown
        phone.event(set(), timeout=0.2)  # (reads what comes meanwhile)
    raise AssertionError(f"{name} is {shown!r}, not {wanted!r}:\n{phone.log_text()[-2000:]}")


def test_a_contact_shows_busy_while_the_colleague_talks(
    server: Server, provisioned: Path, tmp_path: Path
) -> None:
    anna = Baresip(tmp_path / "anna", server, "1001", USERS["1001"][1], DOMAIN,
                   modules=("contact.so", "presence.so"))  # fmt: skip
    (anna.folder / "contacts").write_text(f'"Bjorn" <sip:1002@{DOMAIN}>;presence=p2p\n')
    bjorn = Baresip(tmp_path / "bjorn", server, "1002", USERS["1002"][1], DOMAIN)
    cecilia = Baresip(tmp_path / "cecilia", server, "1003", USERS["1003"][1], DOMAIN)
    phones = [anna.start(), bjorn.start(), cecilia.start()]
    try:
        for phone in phones:
            phone.register()
            assert phone.event({"REGISTER_OK"}) is not None, phone.log_text()
        status(anna, "Bjorn", "Online")
        cecilia.dial(f"sip:1002@{DOMAIN}")
        established(bjorn, cecilia)
        status(anna, "Bjorn", "Busy")
        cecilia.hangup()
        status(anna, "Bjorn", "Online")
    finally:
        for phone in phones:
            phone.stop()
