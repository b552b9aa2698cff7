"""Voicemail messages from the web (S6, U7): list, play, mark heard, delete.

An admin reaches every box of the company; a user their own box (named by their
extension) and the shared boxes they are a member of. Marking a message heard or deleting
it updates the phones' message lamps at once (the bus carries the change to MWI).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from vaxel.bus import BoxChanged
from vaxel.services import configuration, voicemail
from vaxel.services.companies import CompanyInfo
from vaxel.services.company import box_changed
from vaxel.services.voicemail import Message
from vaxel.web.auth import Caller, Context, Principal, audit_change, company_of
from vaxel.web.context import WebContext
from vaxel.web.problems import Problem, RowId

router = APIRouter(prefix="/api/v1", tags=["voicemail"])


class MessageOut(BaseModel):
    id: int
    box: str
    caller: str
    caller_name: str
    received_at: datetime
    duration_seconds: float
    heard: bool


class MessageList(BaseModel):
    items: list[MessageOut]
    new: int
    old: int


class BoxOut(BaseModel):
    box: str
    shared: bool
    new: int
    old: int


class BoxList(BaseModel):
    items: list[BoxOut]


def _out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.id, box=message.box, caller=message.caller, caller_name=message.caller_name,
        received_at=message.received_at, duration_seconds=message.duration_seconds,
        heard=message.heard,
    )  # fmt: skip


def boxes_of(ctx: WebContext, company: CompanyInfo, who: Principal) -> dict[str, bool]:
    """The boxes `who` may hear: box -> shared. Admins: every box of the company."""
    config = configuration.load_document(ctx.store, company.id)
    shared = config.voicemail if config is not None else {}
    if who.role in ("admin", "provider"):
        personal = [user.ext for user in config.users] if config is not None else []
        return {**dict.fromkeys(personal, False), **dict.fromkeys(shared, True)}
    ext = who.account.extension or ""
    mine = {name: True for name, box in shared.items() if ext in box.members}
    return {ext: False, **mine}


def _box(ctx: WebContext, who: Principal, domain: str, box: str) -> CompanyInfo:
    company = company_of(ctx, who, domain)
    if box not in boxes_of(ctx, company, who):
        raise Problem(404, f"no voicemail box {box!r} of yours")
    return company


def _changed(ctx: WebContext, company: CompanyInfo, box: str) -> BoxChanged:
    config = configuration.load_document(ctx.store, company.id)
    if config is None:
        return BoxChanged(company.id, box)
    return box_changed(company.id, config, box)


def _message(ctx: WebContext, company: CompanyInfo, box: str, message_id: int) -> Message:
    message = voicemail.get_message(ctx.store, company.id, message_id)
    if message.box != box:
        raise Problem(404, f"no message {message_id} in box {box!r}")
    return message


@router.get("/me/voicemail")
def my_boxes(who: Caller, ctx: Context) -> BoxList:
    """The boxes I listen to (my own and shared ones), with new and old counts."""
    if who.account.domain is None:
        raise Problem(404, "a provider admin has no voicemail")
    company = company_of(ctx, who, who.account.domain)
    boxes = boxes_of(ctx, company, who)
    if who.role == "admin":  # an admin's own view: theirs and the shared ones they hear
        ext = who.account.extension or ""
        boxes = {box: shared for box, shared in boxes.items() if box == ext or shared}
    items = []
    for box, shared in boxes.items():
        new, old = voicemail.counts(ctx.store, company.id, box)
        items.append(BoxOut(box=box, shared=shared, new=new, old=old))
    return BoxList(items=items)


@router.get("/companies/{domain}/voicemail/{box}/messages")
def messages(domain: str, box: str, who: Caller, ctx: Context) -> MessageList:
    """A box's messages, new ones first."""
    company = _box(ctx, who, domain, box)
    found = voicemail.list_messages(ctx.store, company.id, box)
    new = sum(1 for m in found if not m.heard)
    return MessageList(items=[_out(m) for m in found], new=new, old=len(found) - new)


@router.get(
    "/companies/{domain}/voicemail/{box}/messages/{message_id}/audio",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}}},
)
def audio(domain: str, box: str, message_id: RowId, who: Caller, ctx: Context) -> FileResponse:
    """The message as 8 kHz WAV, to play in the browser."""
    company = _box(ctx, who, domain, box)
    message = _message(ctx, company, box, message_id)
    folder = (ctx.data / "voicemail").resolve()
    path = message.path.resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise Problem(404, f"the recording of message {message_id} is gone")
    return FileResponse(path, media_type="audio/wav", filename=f"voicemail-{message_id}.wav")


class Heard(BaseModel):
    heard: bool


@router.patch("/companies/{domain}/voicemail/{box}/messages/{message_id}")
def mark(
    domain: str, box: str, message_id: RowId, body: Heard, who: Caller, ctx: Context,
    request: Request,
) -> MessageOut:  # fmt: skip
    """Mark a message heard (or new again); the phones' lamps follow."""
    return _out(mark_message(ctx, who, request, domain, box, message_id, body.heard))


def mark_message(
    ctx: WebContext,
    who: Principal,
    request: Request,
    domain: str,
    box: str,
    message_id: int,
    heard: bool,
) -> Message:
    """Mark a message of a box `who` may hear heard or new (S6, U7); the lamps follow.
    The API and the user web's voicemail page both come here."""
    company = _box(ctx, who, domain, box)
    _message(ctx, company, box, message_id)
    voicemail.mark_heard(ctx.store, company.id, message_id, heard)
    ctx.publish(_changed(ctx, company, box))
    audit_change(ctx, who, request, "voicemail.heard" if heard else "voicemail.new",
                 f"{box}/{message_id}", company_id=company.id)  # fmt: skip
    return voicemail.get_message(ctx.store, company.id, message_id)


@router.delete(
    "/companies/{domain}/voicemail/{box}/messages/{message_id}",
    status_code=204,
)
def delete(
    domain: str, box: str, message_id: RowId, who: Caller, ctx: Context, request: Request
) -> None:
    delete_message(ctx, who, request, domain, box, message_id)


def delete_message(
    ctx: WebContext, who: Principal, request: Request, domain: str, box: str, message_id: int
) -> None:
    """Delete a message of a box `who` may hear (S6, U7); the lamps follow."""
    company = _box(ctx, who, domain, box)
    _message(ctx, company, box, message_id)
    voicemail.delete_message(ctx.store, company.id, message_id)
    ctx.publish(_changed(ctx, company, box))
    audit_change(ctx, who, request, "voicemail.delete", f"{box}/{message_id}",
                 company_id=company.id)  # fmt: skip
