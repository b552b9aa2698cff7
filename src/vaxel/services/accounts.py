"""Who may use the web and the API, and as what (P8): provider admins, company admins, users.

A provider admin logs in with an e-mail address and belongs to no company. A company's
user logs in as EXT@DOMAIN (or with an e-mail address given to their account); the
company's admins are users with the role `admin`. Web passwords are argon2id hashes
(argon2-cffi), separate from the SIP password, whose digest HA1s the switch keeps: a desk
phone's stored SIP password never opens the web.

Logging in takes as long for an unknown login as for a wrong password (the hash is
checked against a dummy), so the answer never tells which logins exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from vaxel.services.companies import get_company
from vaxel.services.errors import Conflict, Invalid, NotFound
from vaxel.services.users import (
    MAX_PASSWORD,
    MIN_PASSWORD,
    revoke_browser_credential,
    validate_extension,
)
from vaxel.store import Company, Store, User
from vaxel.store.models import ROLES, WebAccount

_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_HASHER = PasswordHasher()  # argon2id with the library's current defaults (RFC 9106)
_DUMMY = _HASHER.hash("not a password of anyone")


@dataclass(frozen=True, slots=True)
class Account:
    """A logged-in person, as the web layer sees them."""

    id: int
    role: str  # provider, admin, user
    company_id: int | None
    domain: str | None
    extension: str | None
    email: str | None
    name: str

    @property
    def login(self) -> str:
        """What they log in with, and what the audit log calls them."""
        if self.extension is not None and self.domain is not None:
            return f"{self.extension}@{self.domain}"
        return self.email or f"account {self.id}"


def validate_email(email: str) -> str:
    text = email.strip().lower()
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise Invalid(f'invalid e-mail address "{email}"')
    return text


def validate_web_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD or not password.isprintable():
        raise Invalid(f"password must be at most {MAX_PASSWORD} printable characters")
    return password


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash with other argon2 parameters: the test suite's cheaper ones (hashes made with
    any parameters keep verifying, since each hash carries its own)."""
    global _HASHER, _DUMMY
    _HASHER, _DUMMY = hasher, hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _account(row: WebAccount, domain: str | None, name: str) -> Account:
    return Account(row.id, row.role, row.company_id, domain, row.extension, row.email, name)


def add_provider_admin(store: Store, email: str, password: str) -> Account:
    """A new provider admin (`vaxel admin add`); Conflict if the e-mail is taken."""
    email = validate_email(email)
    hashed = hash_password(validate_web_password(password))
    conflict = Conflict(f"{email} already has an account")
    try:
        with store.session() as session:
            if session.scalar(select(WebAccount.id).where(WebAccount.email == email)):
                raise conflict
            row = WebAccount(role="provider", email=email, password_hash=hashed)
            session.add(row)
            session.flush()
            return _account(row, None, email)
    except IntegrityError:
        raise conflict from None


def provider_admins(store: Store) -> list[Account]:
    """The service provider's administrators, by e-mail."""
    query = _accounts_query().where(WebAccount.role == "provider").order_by(WebAccount.email)
    with store.session(read_only=True) as session:
        return [_from_row(row) for row in session.execute(query).all()]


def remove_provider_admin(store: Store, account_id: int, by: int) -> Account:
    """Remove provider admin `account_id` (their sessions and tokens go with them). Not
    oneself (`by`), so the provider always keeps an administrator; NotFound for an id
    that is not a provider admin's."""
    if account_id == by:
        raise Invalid("you cannot remove yourself; ask another provider admin")
    with store.session() as session:
        row = session.get(WebAccount, account_id)
        if row is None or row.role != "provider":
            raise NotFound(f"no provider admin {account_id}")
        removed = _account(row, None, row.email or "")
        session.delete(row)
    _forget(store, account_id)
    return removed


def _user_row(session, company_id: int, extension: str) -> tuple[User, WebAccount | None]:  # type: ignore[no-untyped-def]
    user = session.scalar(
        select(User).where(User.company_id == company_id, User.extension == extension)
    )
    if user is None:
        raise NotFound(f"unknown user {extension}")
    account = session.scalar(
        select(WebAccount).where(
            WebAccount.company_id == company_id, WebAccount.extension == extension
        )
    )
    return user, account


def set_user_account(
    store: Store,
    domain: str,
    extension: str,
    *,
    password: str | None = None,
    role: str | None = None,
    email: str | None = None,
) -> Account:
    """Give a user a web password, a role (`admin` or `user`) or a login e-mail.

    What is not given stays as it was; a user's first account gets the role `user`.
    """
    validate_extension(extension)
    if role is not None and role not in ROLES[1:]:
        raise Invalid(f"unknown role {role!r}: use admin or user")
    hashed = hash_password(validate_web_password(password)) if password is not None else None
    mail = validate_email(email) if email is not None else None
    company = get_company(store, domain)
    try:
        with store.session() as session:
            user, account = _user_row(session, company.id, extension)
            if account is None:
                account = WebAccount(role="user", company_id=company.id, extension=extension)
                session.add(account)
            if hashed is not None:
                account.password_hash = hashed
            if role is not None:
                account.role = role
            if mail is not None:
                account.email = mail
            session.flush()
            made = _account(account, company.domain, user.display_name)
    except IntegrityError:
        raise Conflict(f"{mail} already has an account") from None
    _forget(store, made.id)
    if hashed is not None:  # a new web password: a browser that had the old one loses /phone
        revoke_browser_credential(store, company.id, extension)
    return made


def _forget(store: Store, account_id: int) -> None:
    """What the web keeps of the account's sessions and tokens is stale now."""
    from vaxel.services.web_sessions import credentials  # it imports this module

    credentials(store).forget_account(account_id)


def _accounts_query():  # type: ignore[no-untyped-def]
    """Plain columns (not ORM objects, which a read-only session expires on the way out)."""
    return (
        select(
            WebAccount.id,
            WebAccount.role,
            WebAccount.company_id,
            WebAccount.extension,
            WebAccount.email,
            WebAccount.password_hash,
            Company.domain,
            User.display_name,
        )
        .outerjoin(Company, Company.id == WebAccount.company_id)
        .outerjoin(
            User,
            (User.company_id == WebAccount.company_id) & (User.extension == WebAccount.extension),
        )
    )


def _from_row(row: Any) -> Account:
    id_, role, company_id, extension, email, _hash, domain, name = row
    return Account(id_, role, company_id, domain, extension, email, name or email or "")


def authenticate(store: Store, login: str, password: str) -> Account | None:
    """The account whose login (e-mail or EXT@DOMAIN) and password these are, else None."""
    text = login.strip().lower()
    row = None
    if "@" in text and len(text) <= 320:
        local, _, domain = text.partition("@")
        query = _accounts_query()
        if local.isdigit():
            query = query.where(Company.domain == domain, WebAccount.extension == local)
        else:
            query = query.where(WebAccount.email == text)
        with store.session(read_only=True) as session:
            row = session.execute(query).first()
    if not _verify(row.password_hash if row is not None else None, password):
        return None
    assert row is not None
    return _from_row(row)


def get_account(store: Store, account_id: int) -> Account | None:
    with store.session(read_only=True) as session:
        row = session.execute(_accounts_query().where(WebAccount.id == account_id)).first()
    return _from_row(row) if row is not None else None


def change_password(store: Store, account_id: int, current: str, new: str) -> bool:
    """A person's own new password, given the current one; False if that was wrong."""
    hashed = hash_password(validate_web_password(new))
    with store.session() as session:
        account = session.get(WebAccount, account_id)
        if account is None or not _verify(account.password_hash, current):
            return False
        account.password_hash = hashed
    _forget(store, account_id)
    return True


def roles_of(store: Store, company_id: int, extensions: list[str]) -> dict[str, str]:
    """The web role of each of these users who has an account."""
    if not extensions:
        return {}
    query = select(WebAccount.extension, WebAccount.role).where(
        WebAccount.company_id == company_id, WebAccount.extension.in_(extensions)
    )
    with store.session(read_only=True) as session:
        return {ext: role for ext, role in session.execute(query).all() if ext is not None}


def has_password(store: Store, account_id: int) -> bool:
    with store.session(read_only=True) as session:
        account = session.get(WebAccount, account_id)
        return account is not None and account.password_hash is not None
