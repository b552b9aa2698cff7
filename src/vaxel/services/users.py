"""Users (extensions) of a company and the registrar's credential lookup (P1, P3, U1, O2).

Only digest HA1s are stored (RFC 8760: MD5 and SHA-256), computed with the
company domain as realm, so a user's password never rests on disk.

A user's browser softphone (U1, the /phone page) registers with a credential of
its own, never the desk phone's: digest username `<extension>-web` (`WEB_SUFFIX`) and
a random password of which only the HA1s are kept (`SipUser.web_ha1`). The page
is given the MD5 HA1 (JsSIP answers challenges with it), so revoking it ("log out
everywhere", a new web password) leaves the desk phone untouched, and the desk
password never reaches a browser.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from vaxel.services.companies import get_company, validate_name
from vaxel.services.errors import Conflict, Invalid, NotFound
from vaxel.sip.digest import ha1
from vaxel.store import READ_DIRECTORY_VERSION, Company, Store, User

_EXTENSION = re.compile(r"^[0-9]{2,8}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 128
# How long a call to a user rings before it is not answered (seconds).
DEFAULT_RING_SECONDS = 30
MIN_RING_SECONDS = 5
MAX_RING_SECONDS = 300


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    company_id: int
    extension: str
    display_name: str
    created_at: datetime
    ring_seconds: int = DEFAULT_RING_SECONDS


@dataclass(frozen=True, slots=True)
class SipUser:
    """What the registrar needs to challenge and bind one user."""

    company_id: int
    company_domain: str
    user_id: int
    extension: str
    display_name: str
    ha1: Mapping[str, str]  # digest algorithm ("MD5", "SHA-256") -> hex HA1
    ring_seconds: int = DEFAULT_RING_SECONDS  # how long a call to this user rings
    # The browser softphone's HA1s (U1), for the digest username "<extension>-web";
    # None while the user has no browser credential.
    web_ha1: Mapping[str, str] | None = None


def validate_extension(extension: str) -> str:
    if not _EXTENSION.fullmatch(extension):
        raise Invalid(f'invalid extension "{extension}": use 2 to 8 digits')
    return extension


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD or not password.isprintable():
        raise Invalid(f"password must be at most {MAX_PASSWORD} printable characters")
    return password


def validate_ring_seconds(seconds: int) -> int:
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int)
        or not MIN_RING_SECONDS <= seconds <= MAX_RING_SECONDS
    ):
        raise Invalid(
            f"invalid ring time {seconds!r}: use {MIN_RING_SECONDS} to {MAX_RING_SECONDS} seconds"
        )
    return seconds


def _ha1s(extension: str, realm: str, password: str) -> tuple[str, str]:
    return ha1(extension, realm, password, "MD5"), ha1(extension, realm, password, "SHA-256")


def _info(user: User) -> UserInfo:
    return UserInfo(
        user.id,
        user.company_id,
        user.extension,
        user.display_name,
        user.created_at,
        user.ring_seconds,
    )


def add_user(
    store: Store,
    company_domain: str,
    extension: str,
    display_name: str,
    password: str,
    ring_seconds: int = DEFAULT_RING_SECONDS,
) -> UserInfo:
    extension = validate_extension(extension)
    display_name = validate_name(display_name, "display name")
    password = validate_password(password)
    ring_seconds = validate_ring_seconds(ring_seconds)
    company = get_company(store, company_domain)
    md5, sha256 = _ha1s(extension, company.domain, password)
    conflict = Conflict(f'extension {extension} already exists in "{company.domain}"')
    try:
        with store.session() as session:
            taken = select(User.id).where(
                User.company_id == company.id, User.extension == extension
            )
            if session.scalar(taken) is not None:
                raise conflict
            user = User(
                company_id=company.id,
                extension=extension,
                display_name=display_name,
                ha1_md5=md5,
                ha1_sha256=sha256,
                ring_seconds=ring_seconds,
            )
            session.add(user)
            session.flush()
            return _info(user)
    except IntegrityError:  # a concurrent add won the race (or the company just vanished)
        raise conflict from None


def list_users(store: Store, company_domain: str) -> list[UserInfo]:
    company = get_company(store, company_domain)
    query = select(User).where(User.company_id == company.id).order_by(User.extension)
    with store.session(read_only=True) as session:
        return [_info(user) for user in session.scalars(query)]


MAX_PAGE = 500


def page_users(
    store: Store, company_id: int, *, limit: int = 100, after: str | None = None, q: str = ""
) -> list[UserInfo]:
    """One page of a company's users in extension order: those after `after` (the last
    extension of the previous page) whose extension starts with, or whose name holds, `q`.
    Keyset paging on (company, extension), so page 100 costs what page 1 does."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be 1 to {MAX_PAGE}")
    query = select(User).where(User.company_id == company_id)
    if after:
        query = query.where(User.extension > after)
    text = q.strip()
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            User.extension.like(f"{escaped}%", escape="\\")
            | User.display_name.ilike(f"%{escaped}%", escape="\\")
        )
    query = query.order_by(User.extension).limit(limit)
    with store.session(read_only=True) as session:
        return [_info(user) for user in session.scalars(query)]


def count_users(store: Store, company_id: int) -> int:
    """How many users the company has (the admin's overview)."""
    query = select(func.count()).select_from(User).where(User.company_id == company_id)
    with store.session(read_only=True) as session:
        return int(session.scalar(query) or 0)


def set_password(store: Store, company_domain: str, extension: str, password: str) -> None:
    password = validate_password(password)
    company = get_company(store, company_domain)
    md5, sha256 = _ha1s(extension, company.domain, password)
    with store.session() as session:
        user = session.scalar(
            select(User).where(User.company_id == company.id, User.extension == extension)
        )
        if user is None:
            raise NotFound(f'unknown extension {extension} in "{company.domain}"')
        user.ha1_md5, user.ha1_sha256 = md5, sha256


#: The digest username of a user's browser softphone is its extension and this.
WEB_SUFFIX = "-web"


def browser_credential(store: Store, company_id: int, extension: str) -> tuple[str, str, str]:
    """The browser softphone's digest (username, realm, MD5 HA1) for this user, made on first
    use from 32 random octets (only the HA1s are stored). NotFound for no such user."""
    with store.session() as session:
        row = session.execute(
            select(User.id, User.web_ha1_md5, Company.domain)
            .join(Company, Company.id == User.company_id)
            .where(User.company_id == company_id, User.extension == extension)
        ).first()
        if row is None:
            raise NotFound(f"unknown user {extension}")
        user_id, md5, realm = row
        username = extension + WEB_SUFFIX
        if md5 is None:
            md5, sha256 = _ha1s(username, realm, secrets.token_hex(32))
            # Only where none is set yet: two first uses at once agree on the one that won.
            session.execute(
                update(User)
                .where(User.id == user_id, User.web_ha1_md5.is_(None))
                .values(web_ha1_md5=md5, web_ha1_sha256=sha256)
            )
            md5 = session.scalar(select(User.web_ha1_md5).where(User.id == user_id))
    assert md5 is not None
    return username, realm, md5


def revoke_browser_credential(store: Store, company_id: int, extension: str) -> bool:
    """Forget the user's browser credential (its next use makes a new one), so a page that
    had it can no longer register or call; True if there was one."""
    with store.session() as session:
        result = session.execute(
            update(User)
            .where(
                User.company_id == company_id,
                User.extension == extension,
                User.web_ha1_md5.is_not(None),
            )
            .values(web_ha1_md5=None, web_ha1_sha256=None)
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# The registrar's hot path: one indexed join (companies.domain, users(company_id, extension)).
_FIND_SIP_USER = (
    select(
        Company.id,
        Company.domain,
        User.id,
        User.extension,
        User.display_name,
        User.ha1_md5,
        User.ha1_sha256,
        User.ring_seconds,
        User.web_ha1_md5,
        User.web_ha1_sha256,
    )
    .join(User, User.company_id == Company.id)
    .where(Company.domain == bindparam("domain"), User.extension == bindparam("extension"))
)


def find_sip_user(store: Store, domain: str, extension: str) -> SipUser | None:
    """The user `extension@domain` (domain compared case-insensitively), or None.

    Only extensions are looked up here, so nothing that names a colleague (a chat, a
    transfer, a watched line) can name `1001-web`; the digest check (calls/auth.py) takes
    the browser's username apart and uses `web_ha1`."""
    with store.read() as connection:
        row = connection.execute(
            _FIND_SIP_USER, {"domain": domain.lower(), "extension": extension}
        ).first()
    if row is None:
        return None
    company_id, company_domain, user_id, ext, name, md5, sha256, ring, web_md5, web_sha256 = row
    web = {"MD5": web_md5, "SHA-256": web_sha256} if web_md5 and web_sha256 else None
    return SipUser(
        company_id,
        company_domain,
        user_id,
        ext,
        name,
        {"MD5": md5, "SHA-256": sha256},
        ring,
        web,
    )


_MISSING = object()
# A change made elsewhere (the CLI, the web API) is seen within this; that
# process needs far longer just to exit after its commit.
PROBE_INTERVAL = 0.01


class SipUserCache:
    """`find_sip_user` with the answers kept in memory: the registrar's hot path.

    Credentials change rarely and registrations arrive thousands of times a
    second, so answers (unknown users too) are cached until the directory
    version (bumped by triggers on companies and users) moves. The version is
    only read when the store's change probe says something was committed.
    """

    def __init__(self, store: Store, *, max_entries: int = 200_000) -> None:
        self.store = store
        self.max_entries = max_entries
        self._probe = store.change_probe()
        self._read_version = store.scalar_reader(READ_DIRECTORY_VERSION)
        self._probed: object = None
        self._next_probe = 0.0
        self._version = -1
        self._entries: dict[tuple[str, str], SipUser | None] = {}

    def __call__(self, domain: str, extension: str) -> SipUser | None:
        now = time.monotonic()
        if now >= self._next_probe:  # a probe costs a statement: at most every 10 ms
            self._next_probe = now + PROBE_INTERVAL
            probed = self._probe()
            if probed != self._probed:
                self._probed = probed
                self._revalidate()
        key = (domain.lower(), extension)
        user = self._entries.get(key, _MISSING)
        if user is _MISSING:
            user = find_sip_user(self.store, domain, extension)
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # bounded: random extensions from a scanner
            self._entries[key] = user
        return user  # type: ignore[return-value]

    def _revalidate(self) -> None:
        version = self._read_version()
        if version != self._version:
            self._version = version
            self._entries.clear()
