"""A user's personal contacts through the API (U4): listed and searched, added, changed,
removed, imported from a vCard file and exported as one.

Only the user's own contacts are reachable: another user's contact id is 404, as one
that does not exist. Imports say what they left out (a card without a name, a number
nobody could call) and keep the rest.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vaxel.services import contacts
from vaxel.services.contacts import NewContact, Number
from vaxel.services.errors import Invalid, NotFound
from vaxel.web.auth import Caller, Context, Principal
from vaxel.web.problems import Problem, RowId

router = APIRouter(prefix="/api/v1/me/contacts", tags=["contacts"])


class NumberIn(BaseModel):
    kind: str = Field("mobile", description="one of " + ", ".join(contacts.KINDS))
    number: str


class ContactIn(BaseModel):
    name: str
    numbers: list[NumberIn] = []
    organisation: str = ""
    email: str = ""
    note: str = ""


class ContactOut(ContactIn):
    id: int


class ContactList(BaseModel):
    items: list[ContactOut]


class ImportOut(BaseModel):
    added: int
    skipped: list[str] = Field(description="what was left out, and why")


def _mine(who: Principal) -> tuple[int, str]:
    account = who.account
    if account.company_id is None or account.extension is None:
        raise Problem(404, "only a user with a phone has contacts")
    return account.company_id, account.extension


def _new(body: ContactIn) -> NewContact:
    numbers = tuple(Number(n.kind, n.number) for n in body.numbers)
    return NewContact(body.name, numbers, body.organisation, body.email, body.note)


def _out(contact: contacts.Contact) -> ContactOut:
    return ContactOut(
        id=contact.id, name=contact.name, organisation=contact.organisation,
        email=contact.email, note=contact.note,
        numbers=[NumberIn(kind=n.kind, number=n.number) for n in contact.numbers],
    )  # fmt: skip


def _refused(refusal: Invalid) -> Problem:
    """A refusal names its field ("numbers.0.number: ..."), as config errors do."""
    return Problem(422, str(refusal), errors=[str(refusal)])


@router.get("")
def my_contacts(
    who: Caller, ctx: Context, q: str = Query("", max_length=100, description="search")
) -> ContactList:
    """My contacts by name; `q` finds a name, an organisation or part of a number."""
    company_id, ext = _mine(who)
    return ContactList(items=[_out(c) for c in contacts.list_contacts(ctx.store, company_id,
                                                                      ext, q)])  # fmt: skip


@router.post("", status_code=201)
def add(body: ContactIn, who: Caller, ctx: Context) -> ContactOut:
    company_id, ext = _mine(who)
    try:
        return _out(contacts.add_contact(ctx.store, company_id, ext, _new(body)))
    except Invalid as refused:
        raise _refused(refused) from None


@router.put("/{contact_id}")
def change(
    contact_id: RowId,
    body: ContactIn,
    who: Caller,
    ctx: Context,
) -> ContactOut:
    company_id, ext = _mine(who)
    try:
        return _out(contacts.update_contact(ctx.store, company_id, ext, contact_id, _new(body)))
    except Invalid as refused:
        raise _refused(refused) from None
    except NotFound:
        raise Problem(404, f"no contact {contact_id}") from None


@router.delete("/{contact_id}", status_code=204)
def remove(contact_id: RowId, who: Caller, ctx: Context) -> None:
    company_id, ext = _mine(who)
    try:
        contacts.remove_contact(ctx.store, company_id, ext, contact_id)
    except NotFound:
        raise Problem(404, f"no contact {contact_id}") from None


@router.get("/export.vcf", response_class=Response)
def export(who: Caller, ctx: Context) -> Response:
    """All my contacts as one vCard 3.0 file, for a phone or a mail program."""
    company_id, ext = _mine(who)
    text = contacts.export_vcards(contacts.list_contacts(ctx.store, company_id, ext), ctx.now())
    disposition = {"Content-Disposition": 'attachment; filename="contacts.vcf"'}
    return Response(text, media_type="text/vcard; charset=utf-8", headers=disposition)


@router.post("/import")
async def import_vcards(
    who: Caller, ctx: Context, file: Annotated[UploadFile, File()]
) -> ImportOut:
    """Add the contacts of a vCard file (.vcf, one card or many)."""
    company_id, ext = _mine(who)
    data = await file.read(contacts.MAX_VCARD_BYTES + 1)
    if len(data) > contacts.MAX_VCARD_BYTES:
        raise Problem(413, "a vCard file of at most 2 MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Problem(422, "the file is not UTF-8 text") from None
    try:
        done = await run_in_threadpool(contacts.import_vcards, ctx.store, company_id, ext, text)
    except Invalid as refused:
        raise Problem(422, str(refused)) from None
    return ImportOut(added=done.added, skipped=done.skipped)
