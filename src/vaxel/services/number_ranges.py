"""Number ranges (P1, P6): the E.164 numbers the provider gave each company.

A company admin may put in the description only numbers of their company's ranges
(numbers it already has stay); the provider may put any. So a company cannot take
another's numbers, or numbers the provider never bought, by editing its description.
Two companies' ranges never overlap.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vaxel.services.errors import Conflict, Invalid
from vaxel.services.numbering import NumberError, to_e164
from vaxel.store import Store
from vaxel.store.models import NumberRange

MAX_RANGES = 100


@dataclass(frozen=True, slots=True)
class Range:
    first: str
    last: str

    def holds(self, number: str) -> bool:
        return len(number) == len(self.first) and self.first <= number <= self.last


def parse_range(first: str, last: str) -> Range:
    """A range from two numbers (any form `to_e164` takes); Invalid says what is wrong."""
    try:
        low, high = to_e164(first), to_e164(last)
    except NumberError as exc:
        raise Invalid(str(exc)) from None
    if len(low) != len(high):
        raise Invalid(f"{low} and {high} differ in length: a range is numbers of one length")
    if low > high:
        raise Invalid(f"{low} comes after {high}: give the first number first")
    return Range(low, high)


def ranges_of(store: Store, company_id: int) -> list[Range]:
    with store.session(read_only=True) as session:
        return ranges_of_in(session, company_id)


def ranges_of_in(session: Session, company_id: int) -> list[Range]:
    """`ranges_of` inside a transaction already open (config apply's)."""
    query = (
        select(NumberRange.first, NumberRange.last)
        .where(NumberRange.company_id == company_id)
        .order_by(NumberRange.first)
    )
    return [Range(first, last) for first, last in session.execute(query).all()]


def set_ranges(store: Store, company_id: int, ranges: list[Range]) -> list[Range]:
    """Replace the company's ranges; Conflict when one overlaps another company's."""
    if len(ranges) > MAX_RANGES:
        raise Invalid(f"at most {MAX_RANGES} ranges per company")
    ordered = sorted(ranges, key=lambda r: (len(r.first), r.first))
    for one, other in itertools.pairwise(ordered):
        if len(one.first) == len(other.first) and other.first <= one.last:
            raise Invalid(f"{one.first}-{one.last} and {other.first}-{other.last} overlap")
    with store.session() as session:
        others = session.execute(
            select(NumberRange.first, NumberRange.last).where(NumberRange.company_id != company_id)
        ).all()
        for first, last in others:
            for wanted in ordered:
                if (
                    len(first) == len(wanted.first)
                    and first <= wanted.last
                    and wanted.first <= last
                ):
                    raise Conflict(
                        f"{wanted.first}-{wanted.last} overlaps another company's numbers"
                    )
        session.execute(delete(NumberRange).where(NumberRange.company_id == company_id))
        session.add_all(
            NumberRange(company_id=company_id, first=r.first, last=r.last) for r in ordered
        )
    return ordered


def outside(ranges: list[Range], number: str) -> bool:
    return not any(r.holds(number) for r in ranges)
