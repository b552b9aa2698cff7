"""Read-only wallboard tokens (A11, O2): a TV shows one company's wallboard with one alone.

A company admin makes a token (a name, say "TV in the support room"); it is shown once,
and only its SHA-256 is kept. It opens that company's wallboard and its figures, nothing
else: its prefix `vxw_` is not an API token's (`vxl_`, services/web_sessions.py), so the
API and the live events refuse it as any unknown token. Revoking deletes it: a revoked
token and one never made are the same unknown token, to the wallboard and to anyone
trying tokens (no enumeration).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from vaxel.services.errors import Invalid, NotFound
from vaxel.store import Store
from vaxel.store.models import Company, WallboardToken

PREFIX = "vxw_"
MAX_TOKENS = 20  # per company
MAX_LENGTH = 100  # longer than any token made here: not looked up at all


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    name: str
    created_by: str
    created_at: datetime


def create(
    store: Store, company_id: int, name: str, created_by: str, now: datetime
) -> tuple[str, TokenInfo]:
    """A new token for the company's wallboard: (the token, shown only now; what is kept)."""
    name = name.strip()
    if not 1 <= len(name) <= 100 or not name.isprintable():
        raise Invalid("a wallboard token's name is 1 to 100 printable characters")
    token = PREFIX + secrets.token_urlsafe(32)
    with store.session() as session:
        count = session.scalar(select(func.count()).where(WallboardToken.company_id == company_id))
        if (count or 0) >= MAX_TOKENS:
            raise Invalid(f"at most {MAX_TOKENS} wallboard tokens: revoke one first")
        row = WallboardToken(company_id=company_id, name=name, token_hash=_hash(token),
                             created_by=created_by, created_at=now)  # fmt: skip
        session.add(row)
        session.flush()
        return token, TokenInfo(row.id, name, created_by, now)


def list_tokens(store: Store, company_id: int) -> list[TokenInfo]:
    query = (
        select(WallboardToken)
        .where(WallboardToken.company_id == company_id)
        .order_by(WallboardToken.id)
    )
    with store.session(read_only=True) as session:
        return [TokenInfo(t.id, t.name, t.created_by, t.created_at) for t in session.scalars(query)]


def revoke(store: Store, company_id: int, token_id: int) -> TokenInfo:
    """Delete the company's token `token_id` (NotFound for another company's, as for none);
    a wallboard showing with it stops at its next update."""
    with store.session() as session:
        row = session.scalar(
            select(WallboardToken).where(
                WallboardToken.id == token_id, WallboardToken.company_id == company_id
            )
        )
        if row is None:
            raise NotFound(f"no wallboard token {token_id}")
        info = TokenInfo(row.id, row.name, row.created_by, row.created_at)
        session.execute(delete(WallboardToken).where(WallboardToken.id == token_id))
        return info


def find(store: Store, token: str) -> tuple[int, str] | None:
    """The company (id, domain) whose wallboard the token shows; None for a token unknown
    or revoked (one answer for both)."""
    if not token.startswith(PREFIX) or len(token) > MAX_LENGTH:
        return None
    query = (
        select(Company.id, Company.domain)
        .join(WallboardToken, WallboardToken.company_id == Company.id)
        .where(WallboardToken.token_hash == _hash(token))
    )
    with store.session(read_only=True) as session:
        row = session.execute(query).first()
    return (row[0], row[1]) if row is not None else None
