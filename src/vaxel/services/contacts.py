"""A user's personal contacts (U4, P7): people outside the company directory, with their
numbers, kept per user and imported from or exported as vCards (RFC 6350; 3.0 too, as
phones and mail programs write them), read and written with a kept library (`vobject`).

A contact has a name, numbers (each with a kind: mobile, work, home, other), maybe an
organisation, an e-mail address and a note. Numbers are stored in E.164 so that a call
from the softphone and a caller's number match; one that is not a phone number we could
call is refused when written by hand, and skipped (and reported) on import. Only the
owner sees their contacts; every query names the company and the owner.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import vobject  # type: ignore[import-untyped]  # (no stubs published)
from sqlalchemy import delete, func, or_, select

from vaxel.services.errors import Invalid, NotFound
from vaxel.services.numbering import NumberError, to_e164
from vaxel.store import Store
from vaxel.store.models import Contact as ContactRow

MAX_CONTACTS = 2000  # per user: an address book, not a CRM
MAX_NUMBERS = 10
MAX_VCARD_BYTES = 2_000_000
KINDS = ("mobile", "work", "home", "other")
_FIELD_LIMITS = {"name": 200, "organisation": 200, "email": 254, "note": 1000}
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
# vCard TEL types -> our kinds (the first that matches wins: "CELL,WORK" is a mobile)
_TEL_KINDS = (("cell", "mobile"), ("mobile", "mobile"), ("work", "work"), ("home", "home"))


@dataclass(frozen=True, slots=True)
class Number:
    kind: str
    number: str  # E.164


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    name: str
    organisation: str
    numbers: tuple[Number, ...]
    email: str
    note: str


@dataclass(frozen=True, slots=True)
class NewContact:
    name: str
    numbers: tuple[Number, ...] = ()
    organisation: str = ""
    email: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Imported:
    added: int
    skipped: list[str]  # why each card or number was left out


def _contact(row: ContactRow) -> Contact:
    numbers = tuple(Number(n["kind"], n["number"]) for n in json.loads(row.numbers))
    return Contact(row.id, row.name, row.organisation, numbers, row.email, row.note)


def check(new: NewContact) -> NewContact:
    """The contact as stored (numbers in E.164), or `Invalid` naming the field."""
    values = {
        "name": new.name.strip(), "organisation": new.organisation.strip(),
        "email": new.email.strip(), "note": new.note.strip(),
    }  # fmt: skip
    if not values["name"]:
        raise Invalid("name: a contact needs a name")
    for field, limit in _FIELD_LIMITS.items():
        if len(values[field]) > limit:
            raise Invalid(f"{field}: at most {limit} characters")
        if any(ord(char) < 0x20 and char != "\n" for char in values[field]):
            raise Invalid(f"{field}: no control characters")
    if values["email"] and not _EMAIL.match(values["email"]):
        raise Invalid("email: not an e-mail address")
    if len(new.numbers) > MAX_NUMBERS:
        raise Invalid(f"numbers: at most {MAX_NUMBERS}")
    numbers = []
    for i, number in enumerate(new.numbers):
        if number.kind not in KINDS:
            raise Invalid(f"numbers.{i}.kind: one of {', '.join(KINDS)}")
        try:
            numbers.append(Number(number.kind, to_e164(number.number)))
        except NumberError as exc:
            raise Invalid(f"numbers.{i}.number: {exc}") from None
    return NewContact(values["name"], tuple(numbers), values["organisation"],
                      values["email"], values["note"])  # fmt: skip


def _values(new: NewContact) -> dict[str, Any]:
    return {
        "name": new.name, "organisation": new.organisation, "email": new.email,
        "note": new.note,
        "numbers": json.dumps([{"kind": n.kind, "number": n.number} for n in new.numbers]),
    }  # fmt: skip


def _count(session: Any, company_id: int, owner: str) -> int:
    query = select(func.count()).where(
        ContactRow.company_id == company_id, ContactRow.owner == owner
    )
    return int(session.scalar(query) or 0)


def add_contact(store: Store, company_id: int, owner: str, new: NewContact) -> Contact:
    checked = check(new)
    with store.session() as session:
        if _count(session, company_id, owner) >= MAX_CONTACTS:
            raise Invalid(f"at most {MAX_CONTACTS} contacts")
        row = ContactRow(company_id=company_id, owner=owner, **_values(checked))
        session.add(row)
        session.flush()
        return _contact(row)


def _own(session: Any, company_id: int, owner: str, contact_id: int) -> ContactRow:
    row = session.get(ContactRow, contact_id)
    if row is None or row.company_id != company_id or row.owner != owner:
        raise NotFound(f"no contact {contact_id}")
    return row  # type: ignore[no-any-return]


def update_contact(
    store: Store, company_id: int, owner: str, contact_id: int, new: NewContact
) -> Contact:
    checked = check(new)
    with store.session() as session:
        row = _own(session, company_id, owner, contact_id)
        for name, value in _values(checked).items():
            setattr(row, name, value)
        session.flush()
        return _contact(row)


def remove_contact(store: Store, company_id: int, owner: str, contact_id: int) -> None:
    with store.session() as session:
        session.delete(_own(session, company_id, owner, contact_id))


def list_contacts(store: Store, company_id: int, owner: str, search: str = "") -> list[Contact]:
    """The owner's contacts by name; `search` matches the name, organisation or a number."""
    query = select(ContactRow).where(ContactRow.company_id == company_id,
                                     ContactRow.owner == owner)  # fmt: skip
    text = search.strip()
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(
            ContactRow.name.ilike(like, escape="\\"),
            ContactRow.organisation.ilike(like, escape="\\"),
            ContactRow.numbers.like(like, escape="\\"),
        ))  # fmt: skip
    with store.session(read_only=True) as session:
        rows = session.scalars(query.order_by(func.lower(ContactRow.name), ContactRow.id))
        return [_contact(row) for row in rows]


def remove_all(store: Store, company_id: int, owner: str) -> None:
    with store.session() as session:
        mine = (ContactRow.company_id == company_id, ContactRow.owner == owner)
        session.execute(delete(ContactRow).where(*mine))


# -- vCards ------------------------------------------------------------------------------


def _kind(types: list[str]) -> str:
    lowered = [t.lower() for t in types]
    return next((kind for word, kind in _TEL_KINDS if word in lowered), "other")


def _card(component: Any) -> tuple[NewContact, list[str]]:
    """One vCard as a contact (not yet checked), and the numbers left out of it."""
    contents = component.contents
    name = str(contents["fn"][0].value) if "fn" in contents else ""
    if not name and "n" in contents:
        n = contents["n"][0].value
        name = " ".join(part for part in (n.given, n.family) if part)
    organisation = ""
    if "org" in contents:
        value = contents["org"][0].value
        organisation = " ".join(value) if isinstance(value, list) else str(value)
    email = str(contents["email"][0].value) if "email" in contents else ""
    note = str(contents["note"][0].value) if "note" in contents else ""
    numbers, skipped = [], []
    for tel in contents.get("tel", []):
        raw = str(tel.value).removeprefix("tel:")
        try:
            numbers.append(Number(_kind(tel.params.get("TYPE", [])), to_e164(raw)))
        except NumberError:
            skipped.append(f"{name or '?'}: {raw!r} is not a number to call")
    return NewContact(name, tuple(numbers[:MAX_NUMBERS]), organisation, email, note), skipped


def import_vcards(store: Store, company_id: int, owner: str, text: str) -> Imported:
    """Add the contacts of a vCard file (one or many cards); a card that cannot be read or
    kept is skipped and said why, the others are added."""
    if len(text.encode()) > MAX_VCARD_BYTES:
        raise Invalid(f"a vCard file of at most {MAX_VCARD_BYTES // 1_000_000} MB")
    try:
        components = list(vobject.readComponents(text, ignoreUnreadable=True))
    except Exception as exc:  # vobject raises its own ParseError and plain ones
        raise Invalid(f"not a vCard file: {exc}") from None
    cards = [c for c in components if str(getattr(c, "name", "")).upper() == "VCARD"]
    if not cards:
        raise Invalid("not a vCard file: no BEGIN:VCARD")
    checked: list[NewContact] = []
    skipped: list[str] = []
    for component in cards:
        try:
            new, left_out = _card(component)
            checked.append(check(new))
            skipped += left_out
        except Invalid as refused:
            skipped.append(str(refused))
        except Exception:  # a card vobject could only half read
            skipped.append("a card that could not be read")
    with store.session() as session:
        room = MAX_CONTACTS - _count(session, company_id, owner)
        for new in checked[: max(0, room)]:
            session.add(ContactRow(company_id=company_id, owner=owner, **_values(new)))
    if len(checked) > room:
        skipped.append(f"{len(checked) - max(0, room)} more: at most {MAX_CONTACTS} contacts")
    return Imported(min(len(checked), max(0, room)), skipped)


def export_vcards(contacts: list[Contact], now: datetime) -> str:
    """The contacts as one vCard 3.0 file (what phones and mail programs read most)."""
    cards = []
    for contact in contacts:
        card = vobject.vCard()
        card.add("fn").value = contact.name
        given, _, family = contact.name.rpartition(" ")
        card.add("n").value = vobject.vcard.Name(family=family or contact.name,
                                                 given=given)  # fmt: skip
        if contact.organisation:
            card.add("org").value = [contact.organisation]
        for number in contact.numbers:
            tel = card.add("tel")
            tel.value = number.number
            tel.type_param = {"mobile": "CELL", "work": "WORK", "home": "HOME"}.get(
                number.kind, "VOICE"
            )
        if contact.email:
            card.add("email").value = contact.email
        if contact.note:
            card.add("note").value = contact.note
        card.add("rev").value = now.strftime("%Y%m%dT%H%M%SZ")
        cards.append(card.serialize())
    return "".join(cards)
