"""P7, O1: call records written by the switch and read back a company at a time."""

from __future__ import annotations

import dataclasses
import re
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from vaxel.services import Invalid, NotFound
from vaxel.services.call_records import (
    CallRecordInfo,
    NewCallRecord,
    list_records,
    write_record,
)
from vaxel.services.companies import CompanyInfo, add_company
from vaxel.store import Company, Store
from vaxel.store.models import CallRecord

T0 = datetime(2026, 5, 10, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def acme(store: Store) -> CompanyInfo:
    return add_company(store, "acme.example", "Acme AB")


@pytest.fixture
def beta(store: Store) -> CompanyInfo:
    return add_company(store, "beta.example", "Beta AB")


def answered(company_id: int, call_id: str = "a84b4c76e66710@pc33", **changes) -> NewCallRecord:  # type: ignore[no-untyped-def]
    record = NewCallRecord(
        company_id=company_id,
        call_id=call_id,
        caller="1001",
        caller_name="Anna Svensson",
        callee="1002",
        answered_by="1002",
        started_at=T0,
        answered_at=T0 + timedelta(seconds=4.5),
        ended_at=T0 + timedelta(seconds=96),
        disposition="answered",
        hangup_side="caller",
        cause_code=200,
        cause_text="Normal clearing",
    )
    return dataclasses.replace(record, **changes)


def busy(company_id: int, started_at: datetime = T0) -> NewCallRecord:
    return NewCallRecord(
        company_id=company_id,
        call_id=f"busy-{started_at.timestamp()}",
        caller="sip:+46701234567@carrier.example",
        callee="1001",
        started_at=started_at,
        ended_at=started_at + timedelta(seconds=2),
        disposition="busy",
        hangup_side="callee",
        cause_code=486,
        cause_text="Busy Here",
    )


def test_write_and_list(store: Store, acme: CompanyInfo) -> None:
    write_record(store, answered(acme.id))
    [record] = list_records(store, "ACME.example")
    assert record == CallRecordInfo(
        id=record.id,
        company_id=acme.id,
        company_domain="acme.example",
        call_id="a84b4c76e66710@pc33",
        caller="1001",
        caller_name="Anna Svensson",
        callee="1002",
        answered_by="1002",
        started_at=T0,
        answered_at=T0 + timedelta(seconds=4.5),
        ended_at=T0 + timedelta(seconds=96),
        duration_seconds=91.5,  # from the answer, not the start
        disposition="answered",
        hangup_side="caller",
        cause_code=200,
        cause_text="Normal clearing",
    )
    assert record.started_at.tzinfo == UTC


def test_unanswered_call_lasts_zero_seconds(store: Store, acme: CompanyInfo) -> None:
    write_record(store, busy(acme.id))
    [record] = list_records(store, "acme.example")
    assert (record.answered_at, record.answered_by, record.caller_name) == (None, "", "")
    assert (record.duration_seconds, record.disposition, record.hangup_side) == (
        0,
        "busy",
        "callee",
    )
    assert (record.cause_code, record.cause_text) == (486, "Busy Here")


def test_given_duration_wins_and_times_are_stored_in_utc(store: Store, acme: CompanyInfo) -> None:
    stockholm = timezone(timedelta(hours=2))
    write_record(
        store,
        answered(
            acme.id,
            started_at=T0.astimezone(stockholm),
            answered_at=(T0 + timedelta(seconds=1)).astimezone(stockholm),
            ended_at=(T0 + timedelta(seconds=61)).astimezone(stockholm),
            duration_seconds=59.875,  # the switch's monotonic clock
        ),
    )
    [record] = list_records(store, "acme.example")
    assert record.started_at == T0 and record.started_at.utcoffset() == timedelta(0)
    assert record.duration_seconds == 59.875


def test_newest_first_with_limit(store: Store, acme: CompanyInfo) -> None:
    for minutes in (5, 1, 9, 3):
        write_record(store, busy(acme.id, T0 + timedelta(minutes=minutes)))
    starts = [r.started_at for r in list_records(store, "acme.example")]
    assert starts == [T0 + timedelta(minutes=m) for m in (9, 5, 3, 1)]
    assert [r.started_at for r in list_records(store, "acme.example", limit=2)] == starts[:2]


def test_company_isolation(store: Store, acme: CompanyInfo, beta: CompanyInfo) -> None:
    write_record(store, answered(acme.id, call_id="acme-call"))
    write_record(store, busy(acme.id))
    assert list_records(store, "beta.example") == []
    write_record(store, answered(beta.id, call_id="beta-call"))
    assert [r.call_id for r in list_records(store, "beta.example")] == ["beta-call"]
    assert {r.company_domain for r in list_records(store, "beta.example")} == {"beta.example"}
    assert "beta-call" not in {r.call_id for r in list_records(store, "acme.example")}
    assert len(list_records(store, "acme.example")) == 2


def test_unknown_company(store: Store, acme: CompanyInfo) -> None:
    with pytest.raises(NotFound, match=re.escape('unknown company "x.test"')):
        list_records(store, "x.test")
    with pytest.raises(NotFound, match=f"unknown company id {acme.id + 100}"):
        write_record(store, answered(acme.id + 100))
    assert list_records(store, "acme.example") == []


@pytest.mark.parametrize("limit", [0, -1, 100_001, True])
def test_invalid_limit(store: Store, acme: CompanyInfo, limit: int) -> None:
    with pytest.raises(Invalid, match="invalid limit"):
        list_records(store, "acme.example", limit=limit)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"disposition": "hung-up"}, 'invalid disposition "hung-up"'),
        ({"hangup_side": "network"}, 'invalid hangup side "network"'),
        ({"started_at": datetime(2026, 5, 10, 12)}, "started_at must be timezone-aware"),
        ({"ended_at": datetime(2026, 5, 10, 12)}, "ended_at must be timezone-aware"),
        ({"answered_at": datetime(2026, 5, 10, 12)}, "answered_at must be timezone-aware"),
        ({"duration_seconds": -1.0}, "invalid call duration -1.0"),
        ({"duration_seconds": float("nan")}, "invalid call duration nan"),
    ],
)
def test_write_refuses_a_malformed_record(
    store: Store, acme: CompanyInfo, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(Invalid, match=re.escape(message)):
        write_record(store, answered(acme.id, **changes))
    assert list_records(store, "acme.example") == []


@pytest.mark.parametrize("column", ["disposition", "hangup_side"])
def test_check_constraints_reject_unknown_values(
    store: Store, acme: CompanyInfo, column: str
) -> None:
    """The database itself refuses what write_record would (a hand-written insert)."""
    values = {
        "company_id": acme.id,
        "call_id": "c",
        "caller": "1001",
        "callee": "1002",
        "started_at": T0,
        "ended_at": T0,
        "duration_seconds": 0.0,
        "disposition": "failed",
        "hangup_side": "switch",
        "cause_code": 404,
        "cause_text": "Not Found",
    }
    with store.session() as session:  # the valid row goes in
        session.add(CallRecord(**values))
    with pytest.raises(IntegrityError), store.session() as session:
        session.add(CallRecord(**{**values, column: "unknown"}))
    assert len(list_records(store, "acme.example")) == 1


def test_deleting_a_company_deletes_its_records(
    store: Store, acme: CompanyInfo, beta: CompanyInfo
) -> None:
    write_record(store, answered(acme.id))
    write_record(store, answered(beta.id))
    with store.session() as session:
        session.execute(delete(Company).where(Company.id == acme.id))
    with store.session(read_only=True) as session:
        assert [r.company_id for r in session.query(CallRecord)] == [beta.id]


def test_writes_from_worker_threads(store: Store, acme: CompanyInfo) -> None:
    """The switch writes records on worker threads, several at once."""
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for n in range(10):
                write_record(store, answered(acme.id, call_id=f"w{worker}-{n}"))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    records = list_records(store, "acme.example")
    assert sorted(r.call_id for r in records) == sorted(
        f"w{w}-{n}" for w in range(4) for n in range(10)
    )
