"""The rest of the user web (U7, U8, U11, U4): my voicemail, my settings, calling a
colleague with one press.

- Voicemail (U7, S6): my greeting (uploaded, played, removed, or how to record it by
  phone: `web.api.greeting`); the messages of my own box and of the shared boxes I am a
  member of, each played in the browser (<audio> fed by the API's .../audio, which the session
  cookie opens), marked heard or new, deleted; the phones' lamps follow
  (`web.api.voicemail.mark_message`, `delete_message`).
- Settings: forwarding always / when busy / on no answer (U11, checked by the API's
  `target_error`: a colleague or a number the company allows), forwarding by activity
  (U11: where calls go while a "Meeting" or other diversion is on), voicemail on or off (U7),
  the caller ID my calls show (U8), a new web password and logging out everywhere.
- Click-to-call (U4): the call button beside a colleague posts to /me/call, which places
  the call as POST /api/v1/calls does (`web.api.calls_placed.place`); a refusal, or no
  running switch, is said on the page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData, UploadFile

from vaxel.services import accounts, configuration, voicemail, web_sessions
from vaxel.services.company_config import ConfigError
from vaxel.services.diversions import PRESETS
from vaxel.services.errors import Invalid
from vaxel.services.numbering import CallerIdChoice
from vaxel.web.api.calls_placed import place
from vaxel.web.api.greeting import greeting_file, record_by_phone, remove_greeting, upload_greeting
from vaxel.web.api.me import (
    change_activity_forwarding,
    change_forwarding,
    choose_caller_id,
    mine,
    switch_voicemail,
)
from vaxel.web.api.voicemail import boxes_of, delete_message, mark_message
from vaxel.web.auth import audit_change, forget_session_cookie, set_session_cookie, source_of
from vaxel.web.context import WebContext, blocking
from vaxel.web.pages import me as status_page
from vaxel.web.pages.base import (
    Context,
    PageRoute,
    Seen,
    Viewer,
    check_csrf,
    field,
    redirect,
    render,
)
from vaxel.web.pages.i18n import text
from vaxel.web.problems import Problem, RowId

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FORWARDINGS = ("always", "busy", "no_answer")
STATUSES = tuple(PRESETS)
CALLER_IDS = ("main", "direct", "mobile", "support")
DEVICES = ("mobile", "softphone", "desk")  # kinds of device a caller ID rule may name (U8)
DONE = (
    "heard",
    "unheard",
    "deleted",
    "saved",
    "password",
    "calling",
    "greeting_saved",
    "greeting_removed",
)


def _done(v: Viewer, done: str) -> str:
    return text(v.lang, f"mine.{done}") if done in DONE else ""


def _domain(v: Viewer) -> str:
    if v.company is None or v.who.account.extension is None:
        raise Problem(404, text(v.lang, "me.no_phone"))
    return v.company.domain


# -- voicemail ----------------------------------------------------------------------------


@router.get("/me/voicemail")
def my_voicemail(request: Request, ctx: Context, v: Seen, done: str = "") -> Response:
    """My box and the shared boxes I listen to, newest messages first (U7, S6)."""
    return _voicemail_page(request, ctx, v, done=done)


def _voicemail_page(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    *,
    done: str = "",
    general: list[str] | None = None,
    status: int = 200,
) -> Response:
    domain = _domain(v)
    assert v.company is not None
    boxes = boxes_of(ctx, v.company, v.who)
    if v.role == "admin":  # an admin's own view: theirs and the shared ones they hear
        ext = v.who.account.extension or ""
        config = configuration.load_document(ctx.store, v.company.id)
        shared = config.voicemail if config is not None else {}
        boxes = {box: s for box, s in boxes.items()
                 if box == ext or (s and ext in shared[box].members)}  # fmt: skip
    found = [(box, shared, voicemail.list_messages(ctx.store, v.company.id, box))
             for box, shared in boxes.items()]  # fmt: skip
    own_greeting = greeting_file(ctx, v.who).exists()
    by_phone = record_by_phone(ctx, v.who)
    return render(request, "me_voicemail.html", v, nav="my-voicemail", boxes=found,
                  audio=f"/api/v1/companies/{domain}/voicemail/", done=_done(v, done),
                  general=general or [], ext=v.who.account.extension, status=status,
                  own_greeting=own_greeting, record_by_phone=by_phone)  # fmt: skip


@router.post("/me/greeting")
async def upload_my_greeting(request: Request, ctx: Context, v: Seen) -> Response:
    """My greeting from an uploaded file (U7), checked by decoding; a refused file keeps
    the old greeting and the reason is said on the page."""
    form = await request.form()
    check_csrf(request, v, form)
    _domain(v)
    file = form.get("file")
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            raise Problem(422, text(v.lang, "mine.greeting_no_file"))
        await upload_greeting(ctx, v.who, request, file)
    except Problem as exc:
        page: Response = await blocking(
            _voicemail_page, request, ctx, v, status=exc.status,
            general=[text(v.lang, "mine.greeting_refused", detail=exc.detail)],
        )  # fmt: skip
        return page
    return redirect("/me/voicemail?done=greeting_saved")


@router.post("/me/greeting/remove")
async def remove_my_greeting(request: Request, ctx: Context, v: Seen) -> Response:
    """Back to the system greeting (U7)."""
    form = await request.form()
    check_csrf(request, v, form)
    _domain(v)
    await blocking(remove_greeting, ctx, v.who, request)
    return redirect("/me/voicemail?done=greeting_removed")


@router.post("/me/voicemail/{box}/{message_id}/{what}")
async def change_message(
    box: str, message_id: RowId, what: str, request: Request, ctx: Context, v: Seen
) -> Response:
    """Mark a message heard or new, or delete it; the lamps follow."""
    form = await request.form()
    check_csrf(request, v, form)
    domain = _domain(v)
    if what == "delete":
        await blocking(delete_message, ctx, v.who, request, domain, box, message_id)
        return redirect("/me/voicemail?done=deleted")
    if what not in ("heard", "unheard"):
        raise Problem(404, "")
    await blocking(mark_message, ctx, v.who, request, domain, box, message_id, what == "heard")
    return redirect(f"/me/voicemail?done={what}")


# -- settings -----------------------------------------------------------------------------


def _settings_page(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    *,
    done: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    general: list[str] | None = None,
    status: int = 200,
) -> Response:
    _domain(v)
    now = mine(ctx, v.who)
    shown = {f"forwarding.{kind}": getattr(now.forwarding, kind) or "" for kind in FORWARDINGS}
    shown.update({f"activity.{s}": now.activity_forwarding.get(s, "") for s in STATUSES})
    shown.update({"voicemail": "on" if now.voicemail else "", "caller_id": now.caller_id.show})
    per_device: dict[str, str] = {kind: source for kind, source in now.caller_id.per_device.items()}
    shown.update({f"caller_id.{kind}": per_device.get(kind, "") for kind in DEVICES})
    return render(request, "me_settings.html", v, status=status, nav="settings",
                  values={**shown, **(values or {})}, errors=errors or {},
                  general=general or [], done=_done(v, done), forwardings=FORWARDINGS,
                  statuses=STATUSES,
                  caller_ids=CALLER_IDS, devices=DEVICES, voicemail_on=now.voicemail)  # fmt: skip


@router.get("/me/settings")
def my_settings(request: Request, ctx: Context, v: Seen, done: str = "") -> Response:
    return _settings_page(request, ctx, v, done=done)


@router.post("/me/settings/{part}")
async def change_settings(part: str, request: Request, ctx: Context, v: Seen) -> Response:
    """One of the settings page's forms: forwarding, voicemail, caller-id, password."""
    form = await request.form()
    check_csrf(request, v, form)
    if part == "everywhere":  # log out everywhere: every session of mine ends
        ended = await blocking(web_sessions.end_all_sessions, ctx.store, v.who.account.id)
        await blocking(audit_change, ctx, v.who, request, "sessions.end_all",
                       v.who.account.login, company_id=v.who.account.company_id,
                       after={"sessions_ended": ended})  # fmt: skip
        response = redirect("/login")
        forget_session_cookie(response, ctx)
        return response
    if part not in ("forwarding", "activity", "voicemail", "caller-id", "password"):
        raise Problem(404, "")
    return await blocking(_change, request, ctx, v, part, form)


def _change(request: Request, ctx: WebContext, v: Viewer, part: str, form: FormData) -> Response:
    values = {key: field(form, key) for key in form if key not in ("csrf", "current", "new")}

    def refuse(errors: dict[str, list[str]], general: list[str] | None = None) -> Response:
        return _settings_page(request, ctx, v, values=values, errors=errors, status=422,
                              general=[text(v.lang, "user.errors"), *(general or [])])  # fmt: skip

    if part == "forwarding":
        given = {kind: field(form, f"forwarding.{kind}") or None for kind in FORWARDINGS}
        try:
            change_forwarding(ctx, v.who, request, given)
        except Problem as exc:
            errors: dict[str, list[str]] = {}
            for line in exc.errors or []:
                errors.setdefault(f"forwarding.{line.split(':', 1)[0]}", []).append(line)
            return refuse(errors, [] if errors else [exc.detail])
    elif part == "activity":
        chosen = {status: field(form, f"activity.{status}") or None for status in STATUSES}
        try:
            change_activity_forwarding(ctx, v.who, request, chosen)
        except Problem as exc:
            errors = {}
            for line in exc.errors or []:
                errors.setdefault(f"activity.{line.split(':', 1)[0]}", []).append(line)
            return refuse(errors, [] if errors else [exc.detail])
    elif part == "voicemail":
        switch_voicemail(ctx, v.who, request, bool(form.get("voicemail")))
    elif part == "caller-id":
        return _caller_id(request, ctx, v, form, refuse)
    else:
        return _password(request, ctx, v, form, refuse)
    return redirect("/me/settings?done=saved")


def _caller_id(
    request: Request, ctx: WebContext, v: Viewer, form: FormData, refuse: Any
) -> Response:
    """The number my calls show (U8), and per kind of device a number of its own ("as
    above" leaves that kind to the general choice); a missing number is said at its field."""
    show = field(form, "caller_id")
    chosen = {kind: field(form, f"caller_id.{kind}") for kind in DEVICES}
    errors = (
        {}
        if show in CALLER_IDS
        else {"caller_id": [f"caller_id.show: use one of {', '.join(CALLER_IDS)}"]}
    )
    for kind, source in chosen.items():
        if source and source not in CALLER_IDS:
            errors[f"caller_id.{kind}"] = [f"caller_id.{kind}: use one of {', '.join(CALLER_IDS)}"]
    if errors:
        return refuse(errors)
    per_device = {kind: source for kind, source in chosen.items() if source}
    try:
        choose_caller_id(ctx, v.who, request, CallerIdChoice.model_validate(
            {"show": show, "per_device": per_device}))  # fmt: skip
    except ConfigError as exc:
        found: dict[str, list[str]] = {}
        for line in exc.errors:
            where, problem = line.split(": ", 1) if ": " in line else ("", line)
            kind = where.rsplit(".", 1)[-1] if ".per_device." in where else ""
            if kind in DEVICES:
                found.setdefault(f"caller_id.{kind}", []).append(f"caller_id.{kind}: {problem}")
            else:
                found.setdefault("caller_id", []).append(f"caller_id.show: {problem}")
        return refuse(found)
    return redirect("/me/settings?done=saved")


def _password(
    request: Request, ctx: WebContext, v: Viewer, form: FormData, refuse: Any
) -> Response:
    """A new web password, given the current one; every other session ends (this
    browser gets a new one, so it stays logged in)."""
    current, new = form.get("current"), form.get("new")
    if not isinstance(current, str) or not isinstance(new, str) or not current:
        return refuse({"current": [f"current: {text(v.lang, 'mine.wrong_password')}"]})
    try:
        changed = accounts.change_password(ctx.store, v.who.account.id, current, new)
    except Invalid as exc:
        return refuse({"new": [f"new: {exc.message}"]})
    if not changed:
        return refuse({"current": [f"current: {text(v.lang, 'mine.wrong_password')}"]})
    web_sessions.end_all_sessions(ctx.store, v.who.account.id)
    audit_change(ctx, v.who, request, "account.password", v.who.account.login,
                 company_id=v.who.account.company_id)  # fmt: skip
    token, _ = web_sessions.create_session(ctx.store, v.who.account, source_of(request), ctx.now())
    response = redirect("/me/settings?done=password")
    set_session_cookie(response, ctx, token)
    return response


# -- click-to-call ------------------------------------------------------------------------


@router.post("/me/call")
async def call(request: Request, ctx: Context, v: Seen) -> Response:
    """Ring my phones, then the colleague (U4); a refusal is said on the status page."""
    form = await request.form()
    check_csrf(request, v, form)
    to = field(form, "to")
    try:
        if not to:
            raise Problem(422, "")
        _, dialled = await place(ctx, v.who, request, to)
    except Problem as exc:
        error = text(v.lang, "mine.no_switch") if ctx.place_call is None else exc.detail
        page: Response = await blocking(
            status_page.render_page, request, ctx, v,
            error=text(v.lang, "mine.call_failed", to=to, detail=error), status=exc.status,
        )  # fmt: skip
        return page
    return redirect("/me?" + urlencode({"done": "calling", "to": dialled}))
