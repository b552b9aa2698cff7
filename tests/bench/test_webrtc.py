"""bench/webrtc.py: a short run sets up browser calls (ICE, DTLS) and relays every packet both
ways, in both modes, counting the switch's CPU; no SRTP packet fails authentication."""

from __future__ import annotations

import asyncio
from types import ModuleType

import pytest

from tests.bench.scripts import load


@pytest.fixture(scope="module")
def webrtc() -> ModuleType:
    return load("webrtc")


@pytest.mark.parametrize("mode", ["plain", "webrtc"])
def test_a_short_run_relays_both_ways(webrtc: ModuleType, mode: str) -> None:
    run = asyncio.run(webrtc.measure(mode, 3, 0.4))
    assert 100 <= run.relayed <= 126, run  # 3 calls, 2 directions, 20 packets each in 0.4 s
    assert run.srtp_dropped == 0
    assert run.switch_cpu_s > 0 and run.us_per_packet > 0 and run.calls_per_core > 0
    assert (run.setup_cpu_s > 0) == (mode == "webrtc")
