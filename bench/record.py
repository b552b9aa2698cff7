"""What every benchmark writes besides its printout: a JSON file per run in bench/results/.

A file holds the run's options, the machine (CPU model, cores, kernel, Debian release,
Python), the Vaxel it measured (commit, local changes, compiled or not), the peers'
versions, and the figures of every step. Per-request latencies are kept as counts per
value ({"4": 1890, "8": 95, ...}, SIPp's whole milliseconds), which loses nothing and
stays small. The file is written when the run ends, also when it was interrupted.

Also the aligned text tables the benchmarks print (`table`), and the shell of a
benchmark's run (`run`): report what was measured also when interrupted, say why when the
switch could not be measured, and remove the work folder.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"


def counts(values: Iterable[int]) -> dict[str, int]:
    """Values and how often each occurred, in ascending order (JSON keys are strings)."""
    return {str(value): n for value, n in sorted(Counter(values).items())}


def _plain(value: Any) -> Any:
    """JSON-ready: dataclasses as dicts, paths as text, NaN and infinities as null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def _run(*command: str) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=ROOT)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def machine() -> dict[str, Any]:
    """Where the run happened: enough to tell whether two runs can be compared."""
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if "model name" in ln), "")
    except OSError:
        pass
    release = ""
    try:
        with open("/etc/os-release") as os_release:
            for line in os_release:
                if line.startswith("PRETTY_NAME="):
                    release = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "os": release,
        "python": platform.python_version(),
        "load_average": list(os.getloadavg()),  # at the end of the run: were others busy?
    }


def vaxel_build() -> dict[str, Any]:
    """The Vaxel measured: its commit, whether src/ differed from it, compiled or not."""
    compiled: bool | None = None
    try:
        from vaxel import native

        compiled = native.current() is not None and not os.environ.get("VAXEL_PURE")
    except ImportError:
        pass
    return {
        "commit": _run("git", "rev-parse", "HEAD"),
        "src_changed": bool(_run("git", "status", "--porcelain", "--", "src")),
        "compiled": compiled,  # the mypyc build (`make native`) current and not VAXEL_PURE
    }


def write(
    benchmark: str,
    *,
    started: datetime,
    options: dict[str, Any],
    results: Any,
    peers: dict[str, str] | None = None,
    interrupted: bool = False,
    folder: Path = RESULTS,
) -> Path:
    """bench/results/<benchmark>-<UTC start time>.json; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = started.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{benchmark}-{stamp}.json"
    n = 2
    while path.exists():  # two runs started within the same second
        path = folder / f"{benchmark}-{stamp}-{n}.json"
        n += 1
    document = {
        "benchmark": benchmark,
        "started": started.astimezone(UTC).isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "interrupted": interrupted,
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "options": _plain(options),
        "machine": machine(),
        "vaxel": vaxel_build(),
        "peers": peers or {},
        "results": _plain(results),
    }
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    partial.replace(path)  # a reader never sees half a file
    return path


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Columns aligned on the widest cell; the last column is left ragged."""
    lines = [tuple(str(cell) for cell in row) for row in (headers, *rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(line, widths, strict=False)), line[-1]])
        for line in lines
    )


def run(
    work: Path,
    keep: bool,
    measure: Callable[[], None],
    report: Callable[[bool], None],
    failed: Callable[[str], None],
    errors: tuple[type[Exception], ...],
) -> int:
    """Measure, then `report(interrupted)` (print and save what was measured); the exit
    status. Interrupted (Ctrl-C: 130, SIGTERM: 143, which `main` turns into SystemExit) the
    run still reports what it has; one of `errors` means the switch could not be measured:
    said, and handed to `failed` (to note in the saved file), status 1. `work` (the temp
    folder with the switch's log) is removed unless `keep`."""
    try:
        measure()
        report(False)
    except (KeyboardInterrupt, SystemExit) as stop:
        print("\ninterrupted")
        report(True)
        return 130 if isinstance(stop, KeyboardInterrupt) else 143
    except errors as error:
        print(f"vaxel could not be measured: {error}")
        failed(f"vaxel could not be measured: {error}")
        return 1
    finally:
        if keep:
            print(f"\nthe switch's log kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0
