"""Web sessions and API tokens (P8): bearer secrets stored only as their SHA-256.

A session is what the login cookie names: 32 random bytes, of which the database keeps
the hash, so a copy of the database opens no browser session. Each session has its own
CSRF token, which a form or a script sends back with every change. "Log out everywhere"
deletes every session of the account, and the browser softphone's SIP credential.

An API token (`vxl_` + 32 random bytes, shown once) carries scopes: `read`, `write`
(changes) and `calls` (click-to-call). Tokens are high-entropy, so a plain SHA-256 is
enough to keep them (argon2 is for passwords people choose).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from vaxel.services.accounts import Account, get_account
from vaxel.services.errors import Invalid, NotFound
from vaxel.services.users import revoke_browser_credential
from vaxel.store import Store
from vaxel.store.models import ApiToken, WebSession

SESSION_LIFETIME = timedelta(hours=12)
SCOPES = ("read", "write", "calls")
TOKEN_PREFIX = "vxl_"
MAX_TOKENS = 50  # per account


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SessionInfo:
    account: Account
    csrf: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None


def create_session(store: Store, account: Account, source: str, now: datetime) -> tuple[str, str]:
    """A new session: (the cookie's token, its CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with store.session() as session:
        session.execute(delete(WebSession).where(WebSession.expires_at <= now))
        session.add(
            WebSession(
                token_hash=_hash(token),
                account_id=account.id,
                csrf=csrf,
                source=source,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    return token, csrf


class Credentials:
    """What a session or a token was found to be, kept `TTL` seconds: every request of the
    API checks its credential, and the lookups (two queries) were a third of its CPU.

    Whatever this process changes (logging out, revoking a token, an account's role or
    password) forgets the entries at once; a change by another process (the command
    line) is seen within `TTL`.
    """

    TTL = 10.0

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[str, tuple[float, int, Any]] = {}  # digest -> (until, account, found)

    def get(self, digest: str) -> Any:
        entry = self.entries.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[2]

    def put(self, digest: str, account_id: int, found: Any) -> None:
        with self.lock:
            if len(self.entries) > 10_000:
                self.entries.clear()
            self.entries[digest] = (time.monotonic() + self.TTL, account_id, found)

    def forget(self, digest: str) -> None:
        with self.lock:
            self.entries.pop(digest, None)

    def forget_everyone(self) -> None:
        """A user was removed (their account with them): nothing kept is trusted."""
        with self.lock:
            self.entries.clear()

    def forget_account(self, account_id: int) -> None:
        with self.lock:
            for digest in [d for d, (_, who, _) in self.entries.items() if who == account_id]:
                del self.entries[digest]


def credentials(store: Store) -> Credentials:
    cache = store.memo.get("credentials")
    if not isinstance(cache, Credentials):
        cache = store.memo.setdefault("credentials", Credentials())
    assert isinstance(cache, Credentials)
    return cache


def kept_session(store: Store, token: str, now: datetime) -> SessionInfo | None:
    """`find_session` from memory only (no database): None when not kept."""
    kept = credentials(store).get(_hash(token)) if token and len(token) <= 100 else None
    return kept if isinstance(kept, SessionInfo) and kept.expires_at > now else None


def kept_token(store: Store, token: str) -> tuple[Account, tuple[str, ...]] | None:
    """`find_token` from memory only (no database): None when not kept."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    kept = credentials(store).get(_hash(token))
    return kept if isinstance(kept, tuple) else None


def find_session(store: Store, token: str, now: datetime) -> SessionInfo | None:
    if not token or len(token) > 100:
        return None
    digest = _hash(token)
    kept = credentials(store).get(digest)
    if isinstance(kept, SessionInfo) and kept.expires_at > now:
        return kept
    found = _find_session(store, digest, now)
    if found is not None:
        credentials(store).put(digest, found.account.id, found)
    return found


def _find_session(store: Store, digest: str, now: datetime) -> SessionInfo | None:
    with store.session(read_only=True) as session:
        row = session.get(WebSession, digest)
        if row is None or row.expires_at <= now:
            return None
        account_id, csrf, expires = row.account_id, row.csrf, row.expires_at
    account = get_account(store, account_id)
    return SessionInfo(account, csrf, expires) if account is not None else None


def end_session(store: Store, token: str) -> None:
    with store.session() as session:
        session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))
    credentials(store).forget(_hash(token))


def end_all_sessions(store: Store, account_id: int) -> int:
    """Log the account out everywhere; returns how many sessions ended.

    A user's browser softphone credential (U1) goes too: a page left open in a browser
    the user logged out of (or whose password was changed) can no longer register."""
    with store.session() as session:
        result = session.execute(delete(WebSession).where(WebSession.account_id == account_id))
    credentials(store).forget_account(account_id)
    account = get_account(store, account_id)
    if account is not None and account.company_id is not None and account.extension:
        revoke_browser_credential(store, account.company_id, account.extension)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def validate_scopes(scopes: list[str]) -> tuple[str, ...]:
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise Invalid(f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(scopes)!r}")
    return tuple(scope for scope in SCOPES if scope in scopes)


def create_token(
    store: Store, account: Account, name: str, scopes: list[str], now: datetime
) -> tuple[str, TokenInfo]:
    """A new API token: (the token, shown only now; what is kept of it)."""
    name = name.strip()
    if not 1 <= len(name) <= 100 or not name.isprintable():
        raise Invalid("a token's name is 1 to 100 printable characters")
    chosen = validate_scopes(scopes)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.session() as session:
        count = len(
            session.scalars(select(ApiToken.id).where(ApiToken.account_id == account.id)).all()
        )
        if count >= MAX_TOKENS:
            raise Invalid(f"at most {MAX_TOKENS} tokens per account: revoke one first")
        row = ApiToken(
            account_id=account.id,
            name=name,
            scopes=" ".join(chosen),
            token_hash=_hash(token),
            created_at=now,
        )
        session.add(row)
        session.flush()
        return token, TokenInfo(row.id, name, chosen, now, None)


def list_tokens(store: Store, account_id: int) -> list[TokenInfo]:
    query = select(ApiToken).where(ApiToken.account_id == account_id).order_by(ApiToken.id)
    with store.session(read_only=True) as session:
        return [
            TokenInfo(t.id, t.name, tuple(t.scopes.split()), t.created_at, t.last_used_at)
            for t in session.scalars(query)
        ]


def revoke_token(store: Store, account_id: int, token_id: int) -> None:
    with store.session() as session:
        result = session.execute(
            delete(ApiToken).where(ApiToken.id == token_id, ApiToken.account_id == account_id)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound(f"no token {token_id}")
    credentials(store).forget_account(account_id)


def find_token(store: Store, token: str, now: datetime) -> tuple[Account, tuple[str, ...]] | None:
    """The account and scopes of a bearer token, marking it used (at most once a minute)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    digest = _hash(token)
    kept = credentials(store).get(digest)
    if isinstance(kept, tuple):
        return kept
    found = _find_token(store, digest, now)
    if found is not None:
        credentials(store).put(digest, found[0].id, found)
    return found


def _find_token(store: Store, digest: str, now: datetime) -> tuple[Account, tuple[str, ...]] | None:
    with store.session(read_only=True) as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if row is None:
            return None
        account_id, scopes, used = row.account_id, row.scopes, row.last_used_at
    if used is None or now - used > timedelta(minutes=1):
        with store.session() as session:
            session.execute(
                update(ApiToken).where(ApiToken.token_hash == digest).values(last_used_at=now)
            )
    account = get_account(store, account_id)
    return (account, tuple(scopes.split())) if account is not None else None
