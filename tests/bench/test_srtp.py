"""bench/srtp.py: a short run relays every packet both ways, in every mode (plain, SRTP on
one leg, on both), and counts the switch's CPU per packet; no SRTP packet fails
authentication."""

from __future__ import annotations

import asyncio
from types import ModuleType

import pytest

from tests.bench.scripts import load


@pytest.fixture(scope="module")
def srtp() -> ModuleType:
    return load("srtp")


@pytest.mark.parametrize("mode", ["plain", "sdes", "srtp"])
def test_a_short_run_relays_both_ways(srtp: ModuleType, mode: str) -> None:
    run = asyncio.run(srtp.measure(mode, 3, 0.4))
    # 3 calls, 2 directions, 20 packets in 0.4 s (give or take one at the edges).
    assert 100 <= run.relayed <= 126, run
    assert run.srtp_dropped == 0
    assert run.switch_cpu_s > 0 and run.us_per_packet > 0 and run.calls_per_core > 0
