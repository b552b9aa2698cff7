"""bench/queue.py: the receiver counts each packet's deviation from 20 ms by the kernel's
receive time; a tiny run on a real `vaxel serve` measures all three phases: callers heard
music, the agent's phone rang after each wrap-up, wallboards and consoles got the queue's
changes."""

from __future__ import annotations

import functools
import json
import multiprocessing
import socket
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.bench.scripts import load


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load("queue")


def test_the_receiver_counts_deviation_from_20_ms_by_kernel_time(bench: ModuleType) -> None:
    sink = bench.stamped_socket()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.time()
    reader, writer = multiprocessing.get_context("fork").Pipe(duplex=False)
    # Every packet counts as "around an announcement": its timer 5 s before the start.
    receiver = multiprocessing.get_context("fork").Process(
        target=bench.receive,
        args=([sink], [start - 5.0], start, start + 1.0, 5.0, 3.0, [0], writer),
    )
    receiver.start()
    writer.close()
    for n in range(10):  # RTP, PCMA, numbered
        sender.sendto(bytes([0x80, 8, 0, n]) + bytes(8) + bytes(160), sink.getsockname())
        time.sleep(0.1 if n == 4 else 0.02)  # one gap of 100 ms or more: 80 ms off or more
    assert reader.poll(10)
    heard = reader.recv()
    receiver.join(5)
    sender.close()
    sink.close()
    assert heard["received"] == [10] and heard["lost"] == 0
    assert sum(heard["hist"]) == 9  # a deviation per packet after the first
    assert heard["hist_announcements"] == heard["hist"]
    assert bench._hist_max(heard["hist"]) >= 80.0
    assert heard["gaps_over_40ms"] >= 1


def test_a_packet_after_a_lost_one_counts_as_lost_not_as_late(bench: ModuleType) -> None:
    sink = bench.stamped_socket()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.time()
    reader, writer = multiprocessing.get_context("fork").Pipe(duplex=False)
    receiver = multiprocessing.get_context("fork").Process(
        target=bench.receive, args=([sink], [start], start, start + 0.6, 5.0, 3.0, [0], writer)
    )
    receiver.start()
    writer.close()
    for seq in (1, 2, 3, 6, 7):  # 4 and 5 never come
        sender.sendto(bytes([0x80, 8, 0, seq]) + bytes(8) + bytes(160), sink.getsockname())
        time.sleep(0.06 if seq == 3 else 0.02)
    assert reader.poll(10)
    heard = reader.recv()
    receiver.join(5)
    sender.close()
    sink.close()
    assert heard["lost"] == 2
    assert sum(heard["hist"]) == 3  # 1-2, 2-3, 6-7: the gap over the loss is not counted
    assert heard["gaps_over_40ms"] == 0


def test_percentiles_are_the_upper_edges_of_their_bins(bench: ModuleType) -> None:
    hist = [0] * (bench.BINS + 1)
    hist[0], hist[100] = 98, 2  # 98 within 0.05 ms, 2 at 5.0-5.05 ms
    assert bench.hist_percentile(hist, 0.5) == 0.05
    assert bench.hist_percentile(hist, 0.99) == 5.05
    assert bench.record_hist(hist) == {"0.05": 98, "5.05": 2}


def test_a_tiny_run_measures_every_phase(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench.record, "write", functools.partial(bench.record.write,
                        folder=tmp_path))  # fmt: skip
    status = bench.main([
        "--callers", "3", "--seconds", "5", "--announce-every", "5", "--cycles", "2",
        "--wrap-up", "1", "--wallboards", "3", "--consoles", "3", "--watch-seconds", "3",
        "--churn", "2",
    ])  # fmt: skip
    (written,) = tmp_path.glob("queue-*.json")  # (also when the switch could not be measured)
    results = json.loads(written.read_text())["results"]
    assert status == 0, results.get("error")
    waiting, agent, live = results["waiting"], results["agent"], results["live"]
    assert waiting["joined"] == 3 and waiting["silent_callers"] == 0, waiting
    assert waiting["packets_received"] > 0.5 * waiting["packets_expected"], waiting  # music
    assert waiting["announcement_packets"] > 0, waiting
    assert [c["rang"] for c in agent["cycles"]] == [True, True], agent
    assert agent["by_time"]["count"] == 1 and agent["by_api"]["count"] == 1, agent
    assert live["clients_dropped"] == 0 and live["callers_joined"] >= 4, live
    assert live["console_queue_p99_ms"] is not None, live
    assert live["console_agent_p99_ms"] is not None, live
    assert live["wallboard_deliveries_per_s"] > 0, live
