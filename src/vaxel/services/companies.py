"""Companies (tenants, P1): each owns one SIP domain, which is also its digest realm."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from vaxel.services.errors import Conflict, Invalid, NotFound
from vaxel.store import Company, Store

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    id: int
    domain: str
    name: str
    created_at: datetime


def normalize_domain(domain: str) -> str:
    """Lower-case `domain` and check it is a DNS host name (RFC 1035 §2.3.1, RFC 1123).

    A trailing all-digit label is refused: that would be an IP address, which
    cannot tell tenants apart.
    """
    text = domain.strip().lower()
    labels = text.split(".")
    if (
        not text
        or len(text) > 253
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise Invalid(f'invalid domain "{domain}"')
    return text


def validate_name(name: str, what: str = "name") -> str:
    text = name.strip()
    if not text or len(text) > MAX_NAME or not text.isprintable():
        raise Invalid(f"{what} must be 1-{MAX_NAME} printable characters")
    return text


def _info(company: Company) -> CompanyInfo:
    return CompanyInfo(company.id, company.domain, company.name, company.created_at)


def add_company(store: Store, domain: str, name: str) -> CompanyInfo:
    domain = normalize_domain(domain)
    name = validate_name(name)
    try:
        with store.session() as session:
            if session.scalar(select(Company.id).where(Company.domain == domain)) is not None:
                raise Conflict(f'company "{domain}" already exists')
            company = Company(domain=domain, name=name)
            session.add(company)
            session.flush()
            return _info(company)
    except IntegrityError:  # another process added it between the check and the insert
        raise Conflict(f'company "{domain}" already exists') from None


def get_company(store: Store, domain: str) -> CompanyInfo:
    """The company owning `domain`; raises NotFound."""
    key = domain.strip().lower()
    query = select(Company.id, Company.domain, Company.name, Company.created_at).where(
        Company.domain == key
    )
    with store.read() as connection:  # no ORM: every API request asks this
        row = connection.execute(query).first()
    if row is None:
        raise NotFound(f'unknown company "{domain}"')
    return CompanyInfo(row.id, row.domain, row.name, row.created_at)


def list_companies(store: Store) -> list[CompanyInfo]:
    with store.session(read_only=True) as session:
        return [_info(c) for c in session.scalars(select(Company).order_by(Company.domain))]


def page_companies(
    store: Store, *, limit: int = 100, after: str | None = None, q: str = ""
) -> list[CompanyInfo]:
    """One page of companies by domain: those after `after` whose domain or name holds `q`."""
    if not 1 <= limit <= 500:
        raise Invalid("limit must be 1 to 500")
    query = select(Company)
    if after:
        query = query.where(Company.domain > after)
    text = q.strip()
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            Company.domain.like(f"%{escaped.lower()}%", escape="\\")
            | Company.name.ilike(f"%{escaped}%", escape="\\")
        )
    with store.session(read_only=True) as session:
        return [_info(c) for c in session.scalars(query.order_by(Company.domain).limit(limit))]
