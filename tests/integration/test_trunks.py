"""P6: the switch registers with a carrier, answering its digest challenge (SIPp as the
carrier's registrar)."""

from __future__ import annotations

from pathlib import Path

from tests.integration.peers import Server, free_port, rtp_ports, sipp_background, vaxel_cli

DESCRIPTION = """
company: {{domain: trunked.vaxel.test, name: Trunked AB}}
trunks:
  carrier:
    host: 127.0.0.1
    port: {port}
    domain: carrier.test
    registration: {{username: vaxel-trunk, password: trunk-secret-1, expires: 600}}
"""


def test_the_switch_registers_with_the_carrier(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    (tmp_path / "company.yaml").write_text(DESCRIPTION.format(port=port))
    assert vaxel_cli(data, "company", "list").returncode == 0
    server = Server(data)
    carrier = sipp_background(server, "carrier_registrar.xml", user="carrier", port=port)
    try:
        server.start("--rtp-ports", rtp_ports())
        # Applied while the switch runs: it starts registering at once.
        result = vaxel_cli(data, "config", "apply", str(tmp_path / "company.yaml"))
        assert result.returncode == 0, result.stderr
        out, _ = carrier.communicate(timeout=30)
        assert carrier.returncode == 0, out  # challenged, answered right, accepted
    finally:
        if carrier.poll() is None:
            carrier.kill()
        server.stop()
