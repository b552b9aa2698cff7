"""P3/P4 calls between users through the B2BUA: SIPp callers and SIPp devices on loopback."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.peers import (
    SCENARIOS,
    Server,
    free_port,
    rtp_ports,
    sipp,
    sipp_background,
    vaxel_cli,
)

DOMAIN = "calls.vaxel.test"
OTHER = "other.vaxel.test"
USERS = {
    "1001": ("Anna Svensson", "anna-secret-1", 30),
    "1002": ("Björn Karlsson", "bjorn-secret-2", 30),
    "1003": ("Cecilia Lind", "cecilia-secret-3", 30),
    "1004": ("David Ek", "david-secret-4", 5),
    "1005": ("Eva Berg", "eva-secret-5", 30),
}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("vaxel-calls")
    for domain in (DOMAIN, OTHER):
        assert vaxel_cli(folder, "company", "add", domain, "--name", domain).returncode == 0
    for ext, (name, password, ring) in USERS.items():
        result = vaxel_cli(
            folder, "user", "add", "--company", DOMAIN, "--ext", ext, "--name", name,
            "--password", password, "--ring-time", str(ring),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    result = vaxel_cli(
        folder, "user", "add", "--company", OTHER, "--ext", "2001", "--name", "Other",
        "--password", "other-secret-1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def server(data: Path) -> Iterator[Server]:
    srv = Server(data).start("--rtp-ports", rtp_ports())
    yield srv
    srv.stop()


def register(server: Server, ext: str, port: int, expires: int = 3600) -> None:
    result = sipp(
        server, "register_auth.xml", user=ext, password=USERS[ext][1], port=port,
        keys={"domain": DOMAIN, "expires": str(expires)},
    )  # fmt: skip
    # Removing the last binding gets a 200 without Contact, which the scenario's check
    # counts as a failure: only a registration has to succeed.
    assert result.returncode == 0 or expires == 0, result.stdout + result.stderr


class Device:
    """A registered SIPp device of `ext` waiting for one call with `scenario`."""

    def __init__(self, server: Server, ext: str, scenario: str, **options: object) -> None:
        self.server, self.ext, self.port = server, ext, free_port()
        register(server, ext, self.port)
        extra = ("-recv_timeout", "15000", *options.pop("extra", ()))  # type: ignore[misc]
        self.process = sipp_background(
            server,
            scenario,
            user=ext,
            port=self.port,
            extra=extra,
            **options,  # type: ignore[arg-type]
        )  # it returns once SIPp listens on its port

    def finish(self) -> None:
        """Wait for the scenario's result, then unregister so later calls don't ring it."""
        out, _ = self.process.communicate(timeout=40)
        register(self.server, self.ext, self.port, expires=0)
        assert self.process.returncode == 0, out


def device(server: Server, ext: str, scenario: str, **options: object) -> Device:
    return Device(server, ext, scenario, **options)


def call(server: Server, caller: str, callee: str, scenario: str = "call_caller.xml", **options):  # type: ignore[no-untyped-def]
    return sipp(
        server, scenario, user=caller, password=USERS[caller][1],
        keys={"domain": DOMAIN, "callee": callee}, **options,
    )  # fmt: skip


def records(data: Path, wanted: int) -> list[str]:
    """The call list's lines, once it has at least `wanted` calls (records are written behind)."""
    deadline = time.monotonic() + 10
    while True:
        result = vaxel_cli(data, "calls", "--company", DOMAIN)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.strip().splitlines()[1:]
        if len(lines) >= wanted or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def newest(data: Path, count: int) -> dict[str, str]:
    """The newest call record, as the CLI shows it, once `count` calls are recorded."""
    line = records(data, count)[0]
    columns = ("start", "from", "to", "answered_by", "disposition", "duration", "hangup", "cause")
    return dict(zip(columns, re.split(r"\s{2,}", line.strip()), strict=True))


def test_call_answered_and_hung_up_by_caller(server: Server, data: Path) -> None:
    callee = device(server, "1002", "callee_answer.xml")
    result = call(server, "1001", "1002", extra=("-d", "500"))
    assert result.returncode == 0, result.stdout + result.stderr + server.output
    callee.finish()
    record = newest(data, 1)
    assert record["from"] == "1001 (Anna Svensson)" and record["to"] == "1002"
    assert record["answered_by"] == "1002" and record["disposition"] == "answered"
    assert record["hangup"] == "caller" and record["cause"] == "200 Normal clearing"


def refused(  # type: ignore[no-untyped-def]
    server: Server, tmp_path: Path, caller: str, callee: str, status: int, **keys: str
):
    """Call `callee` and expect the switch to refuse with `status`."""
    template = (SCENARIOS / "call_refused.xml").read_text()
    scenario = tmp_path / f"refused_{status}.xml"
    scenario.write_text(template.replace("STATUS", str(status)))
    return sipp(
        server, str(scenario), user=caller, password=USERS[caller][1],
        keys={"domain": DOMAIN, "callee": callee, **keys}, extra=("-recv_timeout", "15000"),
    )  # fmt: skip


def test_callee_hangs_up(server: Server, data: Path) -> None:
    callee = device(server, "1003", "callee_hangs_up.xml")
    result = call(server, "1001", "1003", scenario="call_callee_hangs_up.xml")
    assert result.returncode == 0, result.stdout + result.stderr
    callee.finish()
    record = newest(data, 2)
    assert (record["to"], record["disposition"], record["hangup"]) == ("1003", "answered", "callee")


def test_caller_cancels_while_ringing(server: Server, data: Path) -> None:
    callee = device(server, "1003", "callee_ring.xml", keys={"reason": ".*"})
    result = call(server, "1001", "1003", scenario="call_cancel.xml", extra=("-d", "500"))
    assert result.returncode == 0, result.stdout + result.stderr
    callee.finish()
    record = newest(data, 3)
    assert (record["disposition"], record["hangup"]) == ("canceled", "caller")
    assert record["answered_by"] == "-" and record["cause"].startswith("487")


def test_busy_device_means_busy(server: Server, data: Path, tmp_path: Path) -> None:
    callee = device(server, "1003", "callee_busy.xml")
    result = refused(server, tmp_path, "1001", "1003", 486)
    assert result.returncode == 0, result.stdout + result.stderr
    callee.finish()
    record = newest(data, 4)
    assert (record["disposition"], record["hangup"], record["cause"]) == (
        "busy", "callee", "486 Busy Here"
    )  # fmt: skip


def test_no_answer_within_the_ring_time(server: Server, data: Path, tmp_path: Path) -> None:
    # 1004 rings 5 s (its ring time); then the device is cancelled and the caller gets 480.
    callee = device(server, "1004", "callee_ring.xml", keys={"reason": ".*"})
    result = refused(server, tmp_path, "1001", "1004", 480)
    assert result.returncode == 0, result.stdout + result.stderr
    callee.finish()
    record = newest(data, 5)
    assert (record["to"], record["disposition"], record["hangup"]) == (
        "1004",
        "no-answer",
        "switch",
    )
    assert record["cause"] == "480 No Answer"


def test_unknown_extension_is_404(server: Server, data: Path, tmp_path: Path) -> None:
    result = refused(server, tmp_path, "1001", "1999", 404)
    assert result.returncode == 0, result.stdout + result.stderr
    record = newest(data, 6)
    assert (record["to"], record["disposition"], record["cause"]) == (
        "1999",
        "failed",
        "404 Not Found",
    )


def test_user_of_another_company_is_404(server: Server, tmp_path: Path) -> None:
    # 2001 exists, but in another company: the caller learns nothing about it.
    for domain in (OTHER, DOMAIN):
        template = (SCENARIOS / "call_refused.xml").read_text().replace("STATUS", "404")
        scenario = tmp_path / "refused_other.xml"
        scenario.write_text(
            template.replace("INVITE sip:[callee]@[domain]", f"INVITE sip:[callee]@{domain}")
        )
        result = sipp(
            server, str(scenario), user="1001", password=USERS["1001"][1],
            keys={"domain": DOMAIN, "callee": "2001"},
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr


def test_no_registered_device_is_480(server: Server, tmp_path: Path) -> None:
    result = refused(server, tmp_path, "1001", "1005", 480)
    assert result.returncode == 0, result.stdout + result.stderr


def test_forking_first_answer_wins_the_other_is_cancelled(server: Server, data: Path) -> None:
    # Two devices of 1002: one rings and must be cancelled "completed elsewhere",
    # the other answers after a second.
    ringing = device(
        server, "1002", "callee_ring.xml",
        keys={"reason": 'Reason: SIP;cause=200;text="Call completed elsewhere"'},
    )  # fmt: skip
    answering = device(server, "1002", "callee_answer.xml", extra=("-d", "1000"))
    result = call(server, "1001", "1002", extra=("-d", "500"))
    assert result.returncode == 0, result.stdout + result.stderr
    for phone in (ringing, answering):
        phone.finish()


def test_hold_and_resume_are_relayed(server: Server) -> None:
    callee = device(server, "1003", "callee_held.xml")
    result = call(server, "1001", "1003", scenario="call_hold.xml")
    assert result.returncode == 0, result.stdout + result.stderr
    callee.finish()
