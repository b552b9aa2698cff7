"""U10 BLF with peers we did not write: SIPp watches a colleague's line (RFC 4235) while two
pjsua2 phones call.

SIPp subscribes with `Event: dialog` as Anna (answering the switch's digest challenge
itself), and answers every NOTIFY until one says the watched dialog is terminated, then
unsubscribes. Meanwhile Cecilia's pjsua2 phone calls Björn's, which answers; Cecilia
hangs up. Every dialog-info body SIPp received validates against RFC 4235's schema, and
Björn's dialog passes early, confirmed and terminated, with the document's version
counting up. SIPp's `-aa` answers a NOTIFY sent again while it is between two steps (the
switch sends it again when SIPp's 200 comes late on a busy machine). SIPp tells the test
it is subscribed by writing a file once it has answered the first NOTIFY (its `exec`
action), so the call starts after the subscription exists.
"""

from __future__ import annotations

import re
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import xmlschema

from tests.integration.peers import Server, _in_use, _sipp_args, free_port, rtp_ports
from tests.integration.pjsua import PjPhone, close_all
from tests.integration.test_calls import DOMAIN, USERS, data

__all__ = ["data"]

SCHEMA = Path(__file__).parents[1] / "vectors" / "xsd" / "dialog-info.xsd"
D = {"d": "urn:ietf:params:xml:ns:dialog-info"}

_OK = """
    <send>
      <![CDATA[

        SIP/2.0 200 OK
        [last_Via:]
        [last_From:]
        [last_To:]
        [last_Call-ID:]
        [last_CSeq:]
        Content-Length: 0

      ]]>
    </send>"""

_SUBSCRIBE = """
    <send retrans="500">
      <![CDATA[

        SUBSCRIBE sip:[watched]@[domain] SIP/2.0
        Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
        From: <sip:[service]@[domain]>;tag=[call_number]
        To: <sip:[watched]@[domain]>{to_tag}
        Call-ID: [call_id]
        CSeq: {cseq} SUBSCRIBE
        Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>
        Event: dialog
        Accept: application/dialog-info+xml
        Expires: {expires}
        {auth}
        Max-Forwards: 70
        User-Agent: SIPp
        Content-Length: 0

      ]]>
    </send>"""

# Each NOTIFY after the first: answered, and the scenario ends the watch once one says the
# watched dialog terminated. Written out MOST_NOTIFIES times rather than as a loop: SIPp
# takes a message that comes while it steps through a loop's jumps as unexpected.
MOST_NOTIFIES = 8
_NEXT_NOTIFY = """
  <recv request="NOTIFY" timeout="60000">
    <action>
      <ereg regexp="terminated&lt;/state&gt;" search_in="msg" check_it="false" assign_to="ended"/>
    </action>
  </recv>""" + _OK.replace("<send>", '<send next="2" test="ended">')

SCENARIO = f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="BLF: watch a colleague's dialogs until one ends">
  {_SUBSCRIBE.format(to_tag="", cseq=1, expires=300, auth="")}
  <recv response="401" auth="true"/>
  {_SUBSCRIBE.format(to_tag="", cseq=2, expires=300, auth="[authentication]")}
  <recv response="200" rrs="true"/>
  <recv request="NOTIFY"/>
  {_OK}
  <nop><action><exec command="touch {{ready}}"/></action></nop>
  {"".join(_NEXT_NOTIFY for _ in range(MOST_NOTIFIES))}
  <label id="2"/>
  {_SUBSCRIBE.format(to_tag="[peer_tag_param]", cseq=3, expires=0, auth="")}
  <recv response="200"/>
  <recv request="NOTIFY"/>
  {_OK}
</scenario>
"""


@pytest.fixture(scope="module")
def server(data: Path) -> Iterator[Server]:
    srv = Server(data).start("--rtp-ports", rtp_ports())
    yield srv
    srv.stop()


def _documents(log: str) -> list[ET.Element]:
    """Each document once: a NOTIFY the switch sent again (its 200 was slow on a busy
    machine; SIPp's -aa answers one that comes between the scenario's steps) is the same."""
    by_version: dict[str, str] = {}
    for found in re.findall(r"<\?xml.*?</dialog-info>", log, re.S):
        version = ET.fromstring(found).get("version", "")
        assert by_version.setdefault(version, found) == found, "two documents of one version"
    return [ET.fromstring(found) for found in by_version.values()]


def _subscribed(server: Server, scenario: Path, ready: Path, log: Path) -> subprocess.Popen[str]:
    """SIPp, once it has answered the first NOTIFY; started again on new ports when another
    process took one of its ports before it bound it."""
    for _attempt in range(3):
        args = _sipp_args(
            server, str(scenario), user="1001", password=USERS["1001"][1],
            keys={"domain": DOMAIN, "watched": "1002"}, transport="u1", calls=1, rate=1,
            timeout=120, host="127.0.0.1", port=free_port(),
            extra=("-trace_msg", "-message_file", str(log), "-aa"),
        )  # fmt: skip
        sipp = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while not ready.exists() and sipp.poll() is None:
            assert time.monotonic() < deadline, "SIPp did not subscribe"
            time.sleep(0.02)
        if ready.exists():
            return sipp
        out = sipp.communicate()[0]
        assert _in_use(out), out
    raise AssertionError(f"SIPp found no free ports:\n{out}")


def test_sipp_watches_bjorns_line_through_a_pjsua2_call(server: Server, tmp_path: Path) -> None:
    scenario, ready, log = tmp_path / "blf.xml", tmp_path / "subscribed", tmp_path / "sipp.log"
    scenario.write_text(SCENARIO.replace("{ready}", str(ready)))
    phones: list[PjPhone] = []
    sipp: subprocess.Popen[str] | None = None
    try:
        bjorn = PjPhone(server.address, "1002", USERS["1002"][1], DOMAIN)
        cecilia = PjPhone(server.address, "1003", USERS["1003"][1], DOMAIN)
        phones += [bjorn, cecilia]
        bjorn.registered()
        cecilia.registered()
        sipp = _subscribed(server, scenario, ready, log)
        call = cecilia.call("1002")
        ringing = bjorn.incoming()
        bjorn.answer(ringing["call"])
        cecilia.state(call, "CONFIRMED")
        cecilia.hangup(call)
        bjorn.state(int(ringing["call"]), "DISCONNECTED")
        out, _ = sipp.communicate(timeout=120)
    finally:
        close_all(phones)
        if sipp is not None and sipp.poll() is None:
            sipp.kill()
            sipp.communicate()
    assert sipp.returncode == 0, out
    schema = xmlschema.XMLSchema(SCHEMA)
    documents = _documents(log.read_text(errors="replace"))
    for document in documents:
        schema.validate(document)
    assert all(d.get("entity") == f"sip:1002@{DOMAIN}" for d in documents)
    versions = [int(d.get("version", "-1")) for d in documents]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    states = [s.text for d in documents for s in d.findall("d:dialog/d:state", D)]
    seen = [state for i, state in enumerate(states) if i == 0 or states[i - 1] != state]
    assert seen[:1] == ["early"] or seen[:2] == ["trying", "early"], states
    assert seen[-2:] == ["confirmed", "terminated"], states
    callers = {r.text for d in documents for r in d.findall("d:dialog/d:remote/d:identity", D)}
    assert callers == {f"sip:1003@{DOMAIN}"}
