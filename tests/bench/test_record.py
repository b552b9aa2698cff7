"""bench/record.py `run`: a benchmark reports what it measured when it ends, when it is
interrupted and when the switch could not be measured, with the exit status a shell sees,
and its work folder goes unless kept."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

RECORD = Path(__file__).resolve().parents[2] / "bench" / "record.py"


@pytest.fixture(scope="module")
def record() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_record", RECORD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def raising(error: BaseException) -> Callable[[], None]:
    def measure() -> None:
        raise error

    return measure


@pytest.mark.parametrize(
    ("measure", "status", "reports", "notes"),
    [
        (lambda: None, 0, [False], []),
        (raising(KeyboardInterrupt()), 130, [True], []),
        (raising(SystemExit(143)), 143, [True], []),  # SIGTERM, as main installs it
        (raising(RuntimeError("no port")), 1, [], ["vaxel could not be measured: no port"]),
    ],
)
def test_what_was_measured_is_reported_with_the_status(
    record: ModuleType,
    tmp_path: Path,
    measure: Callable[[], None],
    status: int,
    reports: list[bool],
    notes: list[str],
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "vaxel.log").write_text("log")
    reported: list[bool] = []
    noted: list[str] = []
    got = record.run(work, False, measure, reported.append, noted.append, (RuntimeError,))
    assert (got, reported, noted) == (status, reports, notes)
    assert not work.exists()


def test_a_kept_work_folder_stays_and_is_named(
    record: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert record.run(tmp_path, True, lambda: None, lambda _: None, print, ()) == 0
    assert tmp_path.exists()
    assert f"the switch's log kept in {tmp_path}" in capsys.readouterr().out


def test_another_error_is_not_taken_for_an_unmeasured_switch(
    record: ModuleType, tmp_path: Path
) -> None:
    with pytest.raises(ValueError):
        record.run(tmp_path, False, raising(ValueError("a bug")), print, print, (RuntimeError,))
    assert not tmp_path.exists()  # removed all the same
