"""bench/srtp.py: a short run relays every packet both ways, in both modes, and counts the
switch's CPU per packet; no SRTP packet fails authentication."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def srtp() -> ModuleType:
    sys.path.insert(0, str(BENCH))  # the script imports its neighbour `record`
    try:
        spec = importlib.util.spec_from_file_location("bench_srtp", BENCH / "srtp.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclass looks itself up there
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


@pytest.mark.parametrize("mode", ["plain", "srtp"])
def test_a_short_run_relays_both_ways(srtp: ModuleType, mode: str) -> None:
    run = asyncio.run(srtp.measure(mode, 3, 0.4))
    # 3 calls, 2 directions, 20 packets in 0.4 s (give or take one at the edges).
    assert 100 <= run.relayed <= 126, run
    assert run.srtp_dropped == 0
    assert run.switch_cpu_s > 0 and run.us_per_packet > 0 and run.calls_per_core > 0
