"""U4: chat over SIP MESSAGE between phones we did not write, through `vaxel serve`.

Anna's pjsua2 phone writes to Björn's baresip: the switch says 202 (kept), baresip shows
the text; Björn replies from baresip and Anna's phone gets it. A message to Cecilia while
no phone of hers is registered waits, and reaches her pjsua2 phone when it registers; one
written on the web reaches it too; and in a group chat a phone's reply reaches the group."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.integration.baresip import Baresip
from tests.integration.peers import vaxel_cli
from tests.integration.test_calls import DOMAIN, USERS, data
from tests.integration.test_pjsua_calls import PhoneFactory, phones, server
from vaxel.services import chat, companies
from vaxel.store import Store

__all__ = ["data", "phones", "server"]

WEB = "anna's web password"


def delivered(data: Path, sender: str, recipient: str, text: str, timeout: float = 15.0) -> None:
    """Wait until the switch marks `text` delivered: a phone of the recipient took it (200).
    (baresip shows a message on its console and tells its control socket nothing.)"""
    deadline = time.monotonic() + timeout
    while True:
        with Store.open(data) as store:
            company = companies.get_company(store, DOMAIN)
            found = chat.conversation(store, company.id, sender, recipient)
        if any(m.body == text and m.delivered_at is not None for m in found):
            return
        assert time.monotonic() < deadline, found
        time.sleep(0.1)


def test_pjsua2_and_baresip_chat_through_the_switch(
    phones: PhoneFactory,
    server,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    anna = phones("1001")
    bjorn = Baresip(
        tmp_path / "bjorn", server, "1002", USERS["1002"][1], DOMAIN, modules=("contact.so",)
    )
    (bjorn.folder / "contacts").write_text(f'"Anna" <sip:1001@{DOMAIN}>\n')
    bjorn.start()
    try:
        bjorn.register()
        assert bjorn.event({"REGISTER_OK"}) is not None, bjorn.log_text()
        anna.send_text(f"sip:1002@{DOMAIN}", "Fika at three?")
        status = anna.expect("im_status", timeout=15)
        assert status["code"] == 202, status
        delivered(server.data, "1001", "1002", "Fika at three?")  # baresip said 200
        # baresip writes to its current contact: Anna, its only one.
        answer = bjorn.request("message", "Yes, see you there")
        assert answer["ok"], answer
        got = anna.expect("im", timeout=15)
        assert got["body"] == "Yes, see you there" and "sip:1002@" in got["from"]
    finally:
        bjorn.stop()

    cecilia_later = "Call me about the offer"
    anna.send_text(f"sip:1003@{DOMAIN}", cecilia_later)
    assert anna.expect("im_status", timeout=15)["code"] == 202
    cecilia = phones("1003")  # registers now: what waits for her comes
    got = cecilia.expect("im", timeout=15)
    assert got["body"] == cecilia_later and "sip:1001@" in got["from"]

    # Anna writes from the web: Cecilia's phone gets it as a MESSAGE from Anna.
    made = vaxel_cli(server.data, "company", "admin", DOMAIN, "--ext", "1001",
                     "--password", WEB, "--revoke")  # fmt: skip
    assert made.returncode == 0, made.stderr
    with httpx.Client(base_url=server.web, timeout=30) as web:
        login = web.post("/api/v1/login", json={"login": f"1001@{DOMAIN}", "password": WEB})
        assert login.status_code == 200, login.text
        web.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        written = web.post("/api/v1/me/chats/1003", json={"text": "Written on the web"})
        assert written.status_code == 201, written.text
        group = web.post("/api/v1/me/chat-groups", json={"name": "Team", "members": ["1003"]})
        assert group.status_code == 201, group.text
    got = cecilia.expect("im", timeout=15)
    assert got["body"] == "Written on the web" and "sip:1001@" in got["from"]

    # A group chat: Anna's phone writes to the group's address; Cecilia's phone gets it
    # from the group, and her reply from the phone goes to the group: Anna's phone has it.
    address = group.json()["address"]
    anna.send_text(address, "Team lunch at noon")
    assert anna.expect("im_status", timeout=15)["code"] == 202
    got = cecilia.expect("im", timeout=15)
    assert got["body"] == "Team lunch at noon" and address in got["from"]
    cecilia.send_text(address, "Count me in")  # a reply: to whom the message came from
    assert cecilia.expect("im_status", timeout=15)["code"] == 202
    back = anna.expect("im", timeout=15)
    assert back["body"] == "Count me in" and address in back["from"]
