"""A6, P7: recorded calls' rows: who sees which, retention per company (rows, then files).
On SQLite and PostgreSQL (the `store` fixture)."""

from __future__ import annotations

import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from vaxel.media.call_recording import WavStream
from vaxel.services.company_config import parse_config
from vaxel.services.configuration import apply_config
from vaxel.services.errors import Invalid, NotFound
from vaxel.services.recordings import (
    NewRecording,
    add,
    expire_by_retention,
    expire_recordings,
    get,
    recover,
    search,
)
from vaxel.store import Store

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def company(store: Store, domain: str, retention: int | None = None) -> int:
    recording = {} if retention is None else {"retention_days": retention}
    apply_config(store, parse_config({
        "company": {"domain": domain, "name": domain},
        "recording": recording,
    }))  # fmt: skip
    return {"acme.example": 1, "other.example": 2}[domain]


def recorded(
    store: Store, tmp_path: Path, company_id: int, caller: str, callee: str, age_days: float
) -> tuple[int, Path]:
    path = tmp_path / f"{company_id}-{caller}-{callee}-{age_days}.wav"
    path.write_bytes(b"RIFF")
    new = NewRecording(
        company_id=company_id, call_id="ab" * 16, caller=caller, callee=callee,
        started_at=NOW - timedelta(days=age_days), duration_seconds=12.5, path=path,
    )  # fmt: skip
    return add(store, new), path


def test_an_admin_sees_the_companys_recordings_and_a_user_their_own(
    store: Store, tmp_path: Path
) -> None:
    acme, other = company(store, "acme.example"), company(store, "other.example")
    a, _ = recorded(store, tmp_path, acme, "1001", "1002", 1)
    b, _ = recorded(store, tmp_path, acme, "+46701740605", "1002", 2)
    c, _ = recorded(store, tmp_path, acme, "1002", "1003", 3)
    theirs, _ = recorded(store, tmp_path, other, "1001", "1002", 1)
    assert [r.id for r in search(store, acme)] == [c, b, a]  # newest first
    assert [r.id for r in search(store, acme, extension="1001")] == [a]
    assert [r.id for r in search(store, acme, limit=2)] == [c, b]
    assert [r.id for r in search(store, acme, before_id=b)] == [a]
    found = get(store, acme, b, "1002")
    assert (found.caller, found.callee, found.duration_seconds) == ("+46701740605", "1002", 12.5)
    assert found.started_at == NOW - timedelta(days=2)
    for asked, extension in ((b, "1001"), (theirs, None), (9999, None)):
        with pytest.raises(NotFound):  # another user's, another company's, none: alike
            get(store, acme, asked, extension)
    with pytest.raises(Invalid):
        search(store, acme, limit=0)


def test_retention_deletes_old_recordings_and_their_files_per_company(
    store: Store, tmp_path: Path
) -> None:
    acme, other = company(store, "acme.example", 30), company(store, "other.example")
    old = recorded(store, tmp_path, acme, "1001", "1002", 31)
    young = recorded(store, tmp_path, acme, "1001", "1002", 29)
    ancient = recorded(store, tmp_path, other, "1001", "1002", 3000)  # kept: no retention
    assert expire_by_retention(store, NOW) == 1
    assert (old[1].exists(), young[1].exists(), ancient[1].exists()) == (False, True, True)
    assert [r.id for r in search(store, acme)] == [young[0]]
    assert expire_recordings(store, other, timedelta(days=1), NOW) == 1
    assert not ancient[1].exists() and search(store, other) == []
    with pytest.raises(ValueError, match="aware"):
        expire_recordings(store, acme, timedelta(days=1), datetime(2027, 1, 1))


def test_recordings_a_crash_cut_off_are_repaired_and_listed_once(
    store: Store, tmp_path: Path
) -> None:
    acme = company(store, "acme.example")
    day = tmp_path / "recordings" / "acme.example" / "2027-03-01"
    day.mkdir(parents=True)
    stream = WavStream(day / f"{'ef' * 16}.wav", 2)  # the switch died while writing it
    stream.write(np.ones(2 * 8000, np.int16))  # one second of stereo
    stream._file.close()  # type: ignore[union-attr]  # never closed: no header fixed
    listed = recorded(store, tmp_path, acme, "1001", "1002", 1)[1]  # has its row
    (day / "broken.wav").write_bytes(b"not a recording")
    strangers = tmp_path / "recordings" / "unknown.example" / "2027-03-01"
    strangers.mkdir(parents=True)
    (strangers / "x.wav").write_bytes(b"")
    assert listed.parent != day
    assert recover(store, tmp_path) == 1
    (row, _) = search(store, acme)  # newest id first: the recovered one
    assert (row.call_id, row.caller, row.callee) == ("ef" * 16, "?", "?")
    assert row.duration_seconds == 1.0
    with wave.open(str(row.path), "rb") as wav:
        assert (wav.getnchannels(), wav.getnframes()) == (2, 8000)
    assert recover(store, tmp_path) == 0  # listed now
