"""Conference mixing benchmark: participants one core mixes in time (P5 mixing, A3).

In process, on one event loop (so on one core): rooms of 3, 10 and 50 participants
(`media.conference.Conference`), each participant a real `media.endpoint.Endpoint`, all on
the engine's real 20 ms media clock. Every tick, before the rooms mix, each participant
"says" a 20 ms frame of its own tone: its payload (PCMA or PCMU, half the participants
each) is decoded and handed to the endpoint's sinks, which is what `Endpoint.readable`
does with an RTP packet once read; so what is not measured is only the party's packet's
`recvfrom` and header parse. Then every room mixes and every endpoint sends its frame as
RTP (build, rewrite, `sendto`) through one loopback socket shared by all of them, to a
socket nobody reads (the kernel drops what does not fit; the send costs the same).

A tick's frames are late when the tick's work (feeding and mixing every room, then
sending) took more than 20 ms of CPU, which no core could do in its 20 ms slot. That is
counted in the thread's CPU time, so other processes on a shared machine do not make a
tick late. What they do add is shown apart, "on the wall clock": frames whose tick ended
after its slot (the tick's scheduled time + 20 ms), waking late included, and frames of
ticks the clock skipped after falling more than 100 ms behind. For each room size the
number of participants climbs until 1 % or more of the frames are late; the last step
below that is what one core holds. It prints a table and writes every step to
bench/results/conference-<time>.json; it never passes or fails on time.

    .venv/bin/python bench/conference.py [--duration 10] [--sizes 3,10,50]
    .venv/bin/python bench/conference.py --quick
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

import record
from vaxel.media import endpoint as endpoint_module
from vaxel.media.clock import TICK
from vaxel.media.conference import Conference
from vaxel.media.endpoint import Endpoint
from vaxel.media.engine import MediaEngine
from vaxel.rtp.g711 import decode, encode
from vaxel.sip.sdp import Answer, Codec, build_offer

HOST = "127.0.0.1"
SIZES = (3, 10, 50)
STEPS = (60, 150, 300, 450, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000)
QUICK_STEPS = (60, 300, 600)
LATE_BOUND = 1.0  # percent of frames: a step is held below this
WARMUP = 0.5  # seconds of each step not counted (the first ticks, the caches)
CODECS = (Codec("PCMA", 8, 8000), Codec("PCMU", 0, 8000))


def _ignore_key(digit: str) -> None:
    pass


class Pacer:
    """The rooms' clock: ticked by the bench's one subscriber of the engine's media clock,
    so that the bench can time all the rooms' work of a tick as one."""

    def __init__(self) -> None:
        self.subscribers: set[Callable[[], None]] = set()

    def subscribe(self, tick: Callable[[], None]) -> None:
        self.subscribers.add(tick)

    def unsubscribe(self, tick: Callable[[], None]) -> None:
        self.subscribers.discard(tick)


@dataclass
class Step:
    size: int  # participants per room
    participants: int
    ticks_expected: int = 0
    ticks: int = 0  # ticks that ran (the clock skips some when far behind)
    late_ticks: int = 0  # ran, but took more than 20 ms of CPU
    wall_late_ticks: int = 0  # ran, but ended after their slot on the wall clock
    cpu: float = 0.0  # process CPU over the step's wall time, % of one core
    work_us: dict[str, float] = field(default_factory=dict)  # CPU per tick: mean, p50, p99, max

    @property
    def late(self) -> float:
        """Percent of frames whose tick took more than 20 ms of CPU (every frame of a tick
        shares its fate)."""
        return 100.0 * self.late_ticks / self.ticks if self.ticks else 0.0

    @property
    def wall_late(self) -> float:
        """Percent of frames whose tick ended after its slot on the wall clock, or never ran."""
        missed = max(self.ticks_expected - self.ticks, 0) + self.wall_late_ticks
        return 100.0 * missed / self.ticks_expected if self.ticks_expected else 0.0

    @property
    def held(self) -> bool:
        return self.late < LATE_BOUND


async def measure_step(size: int, participants: int, duration: float) -> Step:
    """`participants` in rooms of `size` for `duration` seconds on the real media clock."""
    loop = asyncio.get_running_loop()
    step = Step(size, participants)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind((HOST, 0))
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.bind((HOST, 0))
    out.setblocking(False)
    rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    engine = MediaEngine(HOST, (40000, 40002), clock=time.time, loop=loop)
    pacer = Pacer()
    rooms = [Conference(pacer, tones=False) for _ in range(participants // size)]
    said: list[tuple[Endpoint, str, bytes]] = []
    for n in range(participants):
        codec = CODECS[n % 2]
        endpoint = Endpoint(engine, out, rtcp, HOST, out.getsockname()[1], _ignore_key)
        remote = sink.getsockname()
        sdp = build_offer(address=remote[0], port=remote[1], session_id=1)
        endpoint.configure(Answer(sdp, codec, None, remote, None, "sendrecv"), sending=True)
        tone = np.round(3000 * np.sin(2 * np.pi * (300 + 7 * n) * np.arange(160) / 8000))
        said.append((endpoint, codec.name, encode(codec.name, tone.astype(np.int16))))
        rooms[n // size].add(endpoint, codec.name)

    work: list[float] = []
    done = asyncio.Event()
    started = 0.0
    counting = False

    def tick() -> None:
        nonlocal started, counting
        begun = loop.time()
        cpu = time.thread_time()
        if not counting and begun - started >= WARMUP:
            counting = True
            started = begun  # the counted part starts at this tick's slot
        for endpoint, codec, payload in said:  # what Endpoint.readable does with a packet
            samples = decode(codec, payload)
            for heard in endpoint.sinks:
                heard(samples)
        for room_tick in list(pacer.subscribers):
            room_tick()
        ended = loop.time()
        cpu = time.thread_time() - cpu
        if counting:
            step.ticks += 1
            work.append(cpu)
            if cpu > TICK:
                step.late_ticks += 1
            # The tick's slot begins at the time the clock scheduled it for (its `_next`,
            # start + n x 20 ms, read while the tick runs), not when it began.
            if ended - engine.pacer._next > TICK:
                step.wall_late_ticks += 1
            if ended - started >= duration:
                engine.pacer.unsubscribe(tick)
                done.set()

    gc.collect()
    gc.freeze()  # what was built above is never collected again: no pauses from it
    cpu_before = time.process_time()
    started = loop.time()
    engine.pacer.subscribe(tick)
    await done.wait()
    wall = loop.time() - started
    step.cpu = 100.0 * (time.process_time() - cpu_before) / (wall + WARMUP)
    step.ticks_expected = max(round(duration / TICK), step.ticks)
    gc.unfreeze()
    for room in rooms:
        room.close()
    engine.close()
    for sock in (sink, out, rtcp):
        sock.close()
    if work:
        us = np.array(work) * 1e6
        step.work_us = {
            "mean": round(float(us.mean()), 1),
            "p50": round(float(np.percentile(us, 50)), 1),
            "p99": round(float(np.percentile(us, 99)), 1),
            "max": round(float(us.max()), 1),
        }
    return step


def steps_for(size: int, steps: Sequence[int]) -> list[int]:
    """The ladder in whole rooms: each step rounded to a multiple of the room size."""
    rounded = sorted({max(size, round(n / size) * size) for n in steps})
    return rounded


def climb(size: int, steps: Sequence[int], duration: float, done: list[Step]) -> None:
    for participants in steps_for(size, steps):
        step = asyncio.run(measure_step(size, participants, duration))
        done.append(step)
        print(
            f"  rooms of {size:>2}: {participants:>5} participants  late {step.late:6.2f} % "
            f"(wall clock {step.wall_late:6.2f} %)  CPU per tick mean "
            f"{step.work_us.get('mean', 0):6.0f} µs p99 {step.work_us.get('p99', 0):6.0f} µs  "
            f"process CPU {step.cpu:3.0f} %",
            flush=True,
        )
        if not step.held:
            break


def held(steps: list[Step], size: int) -> int:
    """The most participants held in rooms of `size`, below the first step that failed."""
    best = 0
    for step in steps:
        if step.size != size:
            continue
        if not step.held:
            break
        best = step.participants
    return best


def summary(steps: list[Step], sizes: Sequence[int]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for size in sizes:
        best = held(steps, size)
        at = next((s for s in steps if s.size == size and s.participants == best), None)
        # What a tick of one room costs, from the mean work at the step held.
        per_participant = at.work_us.get("mean", 0) / best if at and best else 0.0
        rows.append(
            {
                "room_size": size,
                "participants_held": best,
                "rooms_held": best // size,
                "late_percent_at_held": round(at.late, 3) if at else None,
                "wall_late_percent_at_held": round(at.wall_late, 3) if at else None,
                "work_per_tick_mean_us": at.work_us.get("mean") if at else None,
                "work_per_participant_us": round(per_participant, 2),
                # 20 ms of one core over the mean work per participant and tick.
                "participants_per_core_by_cpu": (
                    int(TICK * 1e6 / per_participant) if per_participant else None
                ),
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per step")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="room sizes")
    parser.add_argument("--steps", default=",".join(map(str, STEPS)), help="participants")
    parser.add_argument("--quick", action="store_true", help="3 s steps, a short ladder")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = 3.0
        args.steps = ",".join(map(str, QUICK_STEPS))
    sizes = [int(s) for s in args.sizes.split(",")]
    ladder = [int(s) for s in args.steps.split(",")]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    work = Path(tempfile.mkdtemp(prefix="vaxel-conference-"))
    measured: list[Step] = []
    started = datetime.now(UTC)
    compiled = not str(endpoint_module.__file__).endswith(".py")  # the mypyc build in use

    def measure() -> None:
        print(
            f"steps of {args.duration:g} s, participants {ladder} in rooms of {sizes}, "
            f"in one process ({'compiled' if compiled else 'pure Python'}), "
            f"real endpoints sending RTP over loopback, input fed in process"
        )
        for size in sizes:
            climb(size, ladder, args.duration, measured)

    def report(interrupted: bool) -> None:
        rows = summary(measured, sizes)
        print()
        print(
            record.table(
                (
                    "room size",
                    "participants held",
                    "rooms",
                    "late %",
                    "late on the wall clock %",
                    "CPU per tick",
                    "by mean CPU",
                ),
                [
                    (
                        r["room_size"],
                        r["participants_held"],
                        r["rooms_held"],
                        r["late_percent_at_held"],
                        r["wall_late_percent_at_held"],
                        f"{r['work_per_tick_mean_us']} µs",
                        r["participants_per_core_by_cpu"],
                    )
                    for r in rows
                ],
            )
        )
        path = record.write(
            "conference",
            started=started,
            options={**vars(args), "late_bound_percent": LATE_BOUND, "warmup_s": WARMUP},
            results={
                "method": "in process; real endpoints and RTP out over loopback; input fed "
                "to the endpoints' sinks",
                "compiled_in_use": compiled,
                "steps": [
                    {
                        **s.__dict__,
                        "late_percent": round(s.late, 3),
                        "wall_late_percent": round(s.wall_late, 3),
                    }
                    for s in measured
                ],
                "summary": rows,
            },
            interrupted=interrupted,
        )
        print(f"\nwritten to {path.relative_to(record.ROOT)}")

    def failed(note: str) -> None:
        pass

    return record.run(work, False, measure, report, failed, (OSError,))


if __name__ == "__main__":
    sys.exit(main())
