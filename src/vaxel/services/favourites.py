"""A user's favourite colleagues (U4: "favourites and search"): starred, listed first.

A favourite is a colleague of the same company (the table's keys name both users, so a
row can never point at another company's user, and goes when either user goes). A user
keeps at most `MAX_FAVOURITES`.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from vaxel.services.errors import Invalid, NotFound
from vaxel.services.users import UserInfo, _info
from vaxel.store import Store
from vaxel.store.models import Favourite, User

MAX_FAVOURITES = 100


def favourites(store: Store, company_id: int, extension: str) -> list[str]:
    """The extensions the user starred, in extension order."""
    query = (
        select(Favourite.colleague)
        .where(Favourite.company_id == company_id, Favourite.extension == extension)
        .order_by(Favourite.colleague)
    )
    with store.session(read_only=True) as session:
        return list(session.scalars(query))


def favourite_users(store: Store, company_id: int, extension: str, q: str = "") -> list[UserInfo]:
    """The starred colleagues in extension order, those matching `q` as the directory's
    search does (the extension starts with it, or the name holds it)."""
    query = (
        select(User)
        .join(
            Favourite,
            (Favourite.company_id == User.company_id) & (Favourite.colleague == User.extension),
        )
        .where(Favourite.company_id == company_id, Favourite.extension == extension)
        .order_by(User.extension)
    )
    with store.session(read_only=True) as session:
        found = [_info(user) for user in session.scalars(query)]
    text = q.strip().lower()
    return [
        user
        for user in found
        if not text or user.extension.startswith(text) or text in user.display_name.lower()
    ]


def add_favourite(store: Store, company_id: int, extension: str, colleague: str) -> bool:
    """Star `colleague` for `extension`; False when already starred. NotFound for a
    colleague (or user) the company does not have; Invalid for oneself or too many."""
    if colleague == extension:
        raise Invalid("you cannot star yourself")
    with store.session() as session:
        known = set(
            session.scalars(
                select(User.extension).where(
                    User.company_id == company_id, User.extension.in_((extension, colleague))
                )
            )
        )
        if colleague not in known or extension not in known:
            raise NotFound(f"unknown extension {colleague if extension in known else extension}")
        if session.get(Favourite, (company_id, extension, colleague)) is not None:
            return False
        count = session.scalar(
            select(func.count()).where(
                Favourite.company_id == company_id, Favourite.extension == extension
            )
        )
        if (count or 0) >= MAX_FAVOURITES:
            raise Invalid(f"you have {MAX_FAVOURITES} favourites already: remove one first")
        session.add(Favourite(company_id=company_id, extension=extension, colleague=colleague))
    return True


def remove_favourite(store: Store, company_id: int, extension: str, colleague: str) -> bool:
    """Unstar `colleague`; False when they were not starred."""
    with store.session() as session:
        result = session.execute(
            delete(Favourite).where(
                Favourite.company_id == company_id,
                Favourite.extension == extension,
                Favourite.colleague == colleague,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
