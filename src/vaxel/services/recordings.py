"""Recorded calls (A6, P7): their rows, who may see them, and the company's retention.

The switch adds a row when a recording ends (its file complete). A company admin sees
all the company's recordings, a user those of calls they made or answered. The
retention sweep (`expire_by_retention`, hourly from `vaxel serve`) deletes rows first,
then their files, so a failure never leaves a row whose file is gone. A recording a
crash cut off has a file and no row: `recover` (when `vaxel serve` starts) makes its
header count all it holds and lists it, its parties unknown ("?").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert, select

from vaxel.services.errors import Invalid, NotFound
from vaxel.store import Store
from vaxel.store.models import Recording

log = logging.getLogger(__name__)

MAX_LIMIT = 500
_DELETE_BATCH = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class NewRecording:
    company_id: int
    call_id: str
    caller: str
    callee: str
    started_at: datetime  # timezone-aware
    duration_seconds: float
    path: Path


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    id: int
    call_id: str
    caller: str
    callee: str
    started_at: datetime
    duration_seconds: float
    path: Path


def _info(row: Recording) -> RecordingInfo:
    return RecordingInfo(
        row.id, row.call_id, row.caller, row.callee, row.started_at, row.duration_seconds,
        Path(row.path),
    )  # fmt: skip


def add(store: Store, new: NewRecording) -> int:
    """Store a finished recording's row; its id."""
    if new.started_at.tzinfo is None:
        raise ValueError("started_at must be timezone-aware")
    values = {
        "company_id": new.company_id, "call_id": new.call_id, "caller": new.caller,
        "callee": new.callee, "started_at": new.started_at,
        "duration_seconds": new.duration_seconds, "path": str(new.path),
    }  # fmt: skip
    with store.session() as session:
        result = session.execute(insert(Recording).values(**values).returning(Recording.id))
        return int(result.scalar_one())


def _mine(extension: str | None):  # type: ignore[no-untyped-def]
    """A user's own recordings: of calls they made or answered (None: all)."""
    if extension is None:
        return True
    return (Recording.caller == extension) | (Recording.callee == extension)


def search(
    store: Store,
    company_id: int,
    *,
    extension: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[RecordingInfo]:
    """The company's recordings (a user's own when `extension` is given), newest first;
    `before_id` pages back from the last of the previous page."""
    if isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"invalid limit {limit!r}: use 1 to {MAX_LIMIT}")
    query = select(Recording).where(Recording.company_id == company_id, _mine(extension))
    if before_id is not None:
        query = query.where(Recording.id < before_id)
    query = query.order_by(Recording.id.desc()).limit(limit)
    with store.session() as session:
        return [_info(row) for row in session.scalars(query)]


def get(store: Store, company_id: int, recording_id: int, extension: str | None) -> RecordingInfo:
    """One recording the asker may hear; NotFound alike for another company's, another
    user's and one that does not exist."""
    query = select(Recording).where(
        Recording.id == recording_id, Recording.company_id == company_id, _mine(extension)
    )
    with store.session() as session:
        row = session.scalars(query).first()
        if row is None:
            raise NotFound("no such recording")
        return _info(row)


def expire_recordings(store: Store, company_id: int, max_age: timedelta, now: datetime) -> int:
    """Delete the company's recordings that started more than `max_age` before `now`, and
    their files; how many."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    query = select(Recording.id, Recording.path).where(
        Recording.company_id == company_id, Recording.started_at < now - max_age
    )
    with store.session() as session:
        rows = session.execute(query).all()
        ids = [id_ for id_, _ in rows]
        for start in range(0, len(ids), _DELETE_BATCH):
            batch = ids[start : start + _DELETE_BATCH]
            session.execute(delete(Recording).where(Recording.id.in_(batch)))
    for _, path in rows:
        Path(path).unlink(missing_ok=True)
    return len(rows)


def expire_by_retention(store: Store, now: datetime) -> int:
    """The housekeeping sweep: every company with `recording.retention_days` loses its
    older recordings; how many went in all."""
    from vaxel.services.configuration import load_all_documents

    removed = 0
    for company_id, _domain, config in load_all_documents(store):
        days = config.recording.retention_days
        if days is not None:
            removed += expire_recordings(store, company_id, timedelta(days=days), now)
    return removed


def recover(store: Store, data: Path) -> int:
    """List the recordings a crash left without a row (in `<data>/recordings/<domain>/`
    of the store's companies), their headers repaired; how many. Run while nothing
    records (when the switch starts)."""
    from vaxel.media.call_recording import repair
    from vaxel.services.companies import list_companies

    folder = data / "recordings"
    if not folder.is_dir():
        return 0
    with store.session() as session:
        known = set(session.scalars(select(Recording.path)))
    found = 0
    for company in list_companies(store):
        for path in sorted((folder / company.domain).glob("*/*.wav")):
            if str(path) in known:
                continue
            try:
                seconds = repair(path)
            except (OSError, ValueError) as error:
                log.warning("recording %s cannot be recovered: %s", path.name, error)
                continue
            ended = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            add(store, NewRecording(
                company_id=company.id, call_id=path.stem.split("-")[0], caller="?",
                callee="?", started_at=ended - timedelta(seconds=seconds),
                duration_seconds=round(seconds, 2), path=path,
            ))  # fmt: skip
            found += 1
    return found
