"""services/contacts on SQLite and PostgreSQL (U4): a user's own contacts added, searched,
changed and removed; numbers kept in E.164; vCards imported (as phones and mail programs
write them) and exported so that they read back the same; nobody sees another's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import vobject  # type: ignore[import-untyped]

from vaxel.services import companies, contacts
from vaxel.services.contacts import NewContact, Number
from vaxel.services.errors import Invalid, NotFound
from vaxel.store import Store

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)

# As a phone exports its address book (vCard 3.0, folded lines, types, an odd number).
PHONE_EXPORT = """BEGIN:VCARD
VERSION:3.0
N:Lind;Eva;;;
FN:Eva Lind
ORG:Lind & Co AB;
TEL;TYPE=CELL:070-174 06 05
TEL;TYPE=WORK,VOICE:+46 8 123 456 78
TEL;TYPE=HOME:12
EMAIL;TYPE=INTERNET:eva@lind.example
NOTE:Prefers mornings
END:VCARD
BEGIN:VCARD
VERSION:4.0
FN:Olof Berg
TEL;VALUE=uri;TYPE=work:tel:+46-31-123-45-67
END:VCARD
BEGIN:VCARD
VERSION:3.0
TEL:0701740699
END:VCARD
"""


def acme(store: Store) -> int:
    return companies.add_company(store, "acme.example", "Acme").id


def test_contacts_are_kept_searched_changed_and_removed(store: Store) -> None:
    company = acme(store)
    made = contacts.add_contact(store, company, "1001", NewContact(
        "Eva Lind", (Number("mobile", "070-174 06 05"),), "Lind & Co", "eva@lind.example",
    ))  # fmt: skip
    contacts.add_contact(store, company, "1001", NewContact("Adam Ek"))
    contacts.add_contact(store, company, "1002", NewContact("Björn's own"))
    assert made.numbers == (Number("mobile", "+46701740605"),)
    assert [c.name for c in contacts.list_contacts(store, company, "1001")] == [
        "Adam Ek", "Eva Lind",
    ]  # fmt: skip
    assert [c.name for c in contacts.list_contacts(store, company, "1001", "lind & co")] == [
        "Eva Lind"
    ]
    assert [c.name for c in contacts.list_contacts(store, company, "1001", "7406")] == ["Eva Lind"]
    assert contacts.list_contacts(store, company, "1001", "%") == []
    changed = contacts.update_contact(store, company, "1001", made.id,
                                      NewContact("Eva Lind-Berg"))  # fmt: skip
    assert changed.name == "Eva Lind-Berg" and changed.numbers == ()
    with pytest.raises(NotFound):  # Björn cannot change Anna's
        contacts.update_contact(store, company, "1002", made.id, NewContact("x"))
    contacts.remove_contact(store, company, "1001", made.id)
    assert [c.name for c in contacts.list_contacts(store, company, "1001")] == ["Adam Ek"]


@pytest.mark.parametrize(
    ("new", "where"),
    [
        (NewContact(""), "name"),
        (NewContact("A", (Number("pager", "0701740605"),)), "numbers.0.kind"),
        (NewContact("A", (Number("mobile", "hello"),)), "numbers.0.number"),
        (NewContact("A", email="not-mail"), "email"),
        (NewContact("A" * 201), "name"),
    ],
)
def test_what_is_refused_names_its_field(new: NewContact, where: str) -> None:
    with pytest.raises(Invalid, match=f"^{where}:"):
        contacts.check(new)


def test_a_phones_vcards_import_and_export_round_trip(store: Store) -> None:
    company = acme(store)
    imported = contacts.import_vcards(store, company, "1001", PHONE_EXPORT)
    assert imported.added == 2
    assert any("'12'" in why for why in imported.skipped)  # a number nobody can call
    assert any("name" in why for why in imported.skipped)  # the card without a name
    eva, olof = contacts.list_contacts(store, company, "1001")
    assert (eva.name, eva.organisation, eva.email, eva.note) == (
        "Eva Lind", "Lind & Co AB", "eva@lind.example", "Prefers mornings",
    )  # fmt: skip
    assert eva.numbers == (Number("mobile", "+46701740605"), Number("work", "+46812345678"))
    assert olof.numbers == (Number("work", "+46311234567"),)
    text = contacts.export_vcards([eva, olof], NOW)
    cards = list(vobject.readComponents(text))
    assert [card.fn.value for card in cards] == ["Eva Lind", "Olof Berg"]
    again = contacts.import_vcards(store, company, "1002", text)
    assert again.added == 2 and again.skipped == []
    copied = contacts.list_contacts(store, company, "1002")
    assert [(c.name, c.numbers, c.organisation) for c in copied] == [
        (c.name, c.numbers, c.organisation) for c in (eva, olof)
    ]


def test_what_is_not_a_vcard_is_refused(store: Store) -> None:
    company = acme(store)
    for text in ("", "hello", "BEGIN:VCALENDAR\nEND:VCALENDAR\n"):
        with pytest.raises(Invalid, match="not a vCard file"):
            contacts.import_vcards(store, company, "1001", text)
    assert contacts.list_contacts(store, company, "1001") == []
