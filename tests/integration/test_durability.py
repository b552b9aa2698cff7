"""O1, P3, P7, S6: acknowledged means stored. A switch killed with SIGKILL right after the last
200 to a REGISTER, the last 200 to a BYE or a voicemail caller's goodbye has lost nothing: the
restarted switch knows every device, every call record and the message. On SQLite and
PostgreSQL, with SIPp and baresip as the parties."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.integration.baresip import Baresip
from tests.integration.peers import Server, free_port, rtp_ports, sipp, sipp_background
from vaxel.services import companies, users, voicemail
from vaxel.services.call_records import list_records
from vaxel.services.configuration import apply_config, load_yaml
from vaxel.services.registrations import all_bindings
from vaxel.store import Store

pytestmark = pytest.mark.integration

DOMAIN = "durable.vaxel.test"
DEVICES = 60
CALLS = 20
QUICK_BOX = "+46812345699"
REGISTER_MANY = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!-- One registration per injected user (ext;domain;[authentication ...]), each a new device. -->
<scenario name="many devices register">
  <send retrans="500">
    <![CDATA[

      REGISTER sip:[field1] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:[field0]@[field1]>;tag=[call_number]
      To: <sip:[field0]@[field1]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Expires: 3600
      Content-Length: 0

    ]]>
  </send>
  <recv response="401" auth="true"/>
  <send retrans="500">
    <![CDATA[

      REGISTER sip:[field1] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:[field0]@[field1]>;tag=[call_number]
      To: <sip:[field0]@[field1]>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      [field2]
      Max-Forwards: 70
      Expires: 3600
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
"""


def password(ext: str) -> str:
    return f"secret-{ext}-pw"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A data folder on each kind of database, with Durable AB and its users; the switch
    started in it uses the same database."""
    if request.param == "postgresql":
        monkeypatch.setenv("VAXEL_DATABASE_URL", request.getfixturevalue("postgres_url"))
    else:
        monkeypatch.delenv("VAXEL_DATABASE_URL", raising=False)
    data = tmp_path / "data"
    store = Store.open(data)
    try:
        companies.add_company(store, DOMAIN, "Durable AB")
        for n in range(DEVICES):
            users.add_user(store, DOMAIN, str(2000 + n), f"Device {n}", password(str(2000 + n)))
        apply_config(store, load_yaml(DESCRIPTION))
    finally:
        store.close()
    yield data


USERS = "\n".join(f'  - {{ext: "{2000 + n}", name: Device {n}}}' for n in range(DEVICES))
DESCRIPTION = f"""
company: {{domain: {DOMAIN}, name: Durable AB, language: en}}
users:
{USERS}
numbers:
  - {{number: "{QUICK_BOX}", flow: quick}}
flows:
  quick: {{destination: {{voicemail: quick}}}}
voicemail:
  quick: {{max_seconds: 10}}
"""


def killed(server: Server) -> None:
    """SIGKILL: no shutdown, no last flush."""
    assert server.process is not None
    server.process.kill()
    server.process.wait()
    server.process = None


def test_no_acknowledged_registration_is_lost(database: Path, tmp_path: Path) -> None:
    server = Server(database).start()
    try:
        users_csv = tmp_path / "users.csv"
        with users_csv.open("w") as out:
            out.write("SEQUENTIAL\n")
            for n in range(DEVICES):
                ext = str(2000 + n)
                auth = f"[authentication username={ext} password={password(ext)}]"
                out.write(f"{ext};{DOMAIN};{auth}\n")
        scenario = tmp_path / "register_many.xml"
        scenario.write_text(REGISTER_MANY)
        result = sipp(
            server, str(scenario), user="2000", calls=DEVICES, rate=200,
            extra=("-inf", str(users_csv)),
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        killed(server)  # right after SIPp saw its last 200
    finally:
        server.stop()
    store = Store.open(database)
    try:
        assert sum(len(b) for b in all_bindings(store).values()) == DEVICES
    finally:
        store.close()
    server.start()  # and the switch starts again on what was stored
    server.stop()


def test_no_acknowledged_call_record_is_lost(database: Path) -> None:
    server = Server(database).start("--rtp-ports", rtp_ports())
    try:
        callee_port = free_port()
        registered = sipp(
            server, "register_auth.xml", user="2001", password=password("2001"),
            port=callee_port, keys={"domain": DOMAIN},
        )  # fmt: skip
        assert registered.returncode == 0, registered.stdout + registered.stderr
        callee = sipp_background(
            server, "callee_answer.xml", user="2001", port=callee_port, calls=CALLS,
            timeout=60, keys={"domain": DOMAIN},
        )  # fmt: skip
        result = sipp(
            server, "call_caller.xml", user="2000", password=password("2000"), calls=CALLS,
            rate=10, timeout=60, keys={"domain": DOMAIN, "callee": "2001"},
            extra=("-d", "100"),
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        killed(server)  # right after the caller had the 200 to its last BYE
        callee.kill()
        callee.communicate()
    finally:
        server.stop()
    store = Store.open(database)
    try:
        records = list_records(store, DOMAIN)
        assert len([r for r in records if r.disposition == "answered"]) == CALLS
    finally:
        store.close()


def write_wav(path: Path, seconds: float) -> Path:
    t = np.arange(int(8000 * seconds)) / 8000
    samples = (6000 * np.sin(2 * np.pi * 523 * t)).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(samples.tobytes())
    return path


def test_a_message_whose_caller_heard_goodbye_is_not_lost(database: Path, tmp_path: Path) -> None:
    server = Server(database).start("--rtp-ports", rtp_ports())
    phone = Baresip(
        tmp_path / "baresip", server, "2000", password("2000"), DOMAIN,
        audio_source=write_wav(tmp_path / "speech.wav", 30.0),
    )  # fmt: skip
    try:
        phone.start()
        phone.register()
        phone.dial(f"sip:{QUICK_BOX}@{DOMAIN}")
        assert phone.event({"CALL_ESTABLISHED"}, timeout=15) is not None
        # The box takes 10 s, then says goodbye and hangs up: that BYE is the moment.
        assert phone.event({"CALL_CLOSED"}, timeout=30) is not None, phone.log_text()
        killed(server)
    finally:
        phone.stop()
        server.stop()
    store = Store.open(database)
    try:
        company = companies.get_company(store, DOMAIN)
        (message,) = voicemail.list_messages(store, company.id, "quick")
        assert 9.0 <= message.duration_seconds <= 10.5
        assert message.path.exists() and message.path.stat().st_size > 100_000
    finally:
        store.close()
