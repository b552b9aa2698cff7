"""The company admin's pages (S7): overview, users, a user's settings, devices and
removal, calls, audit log.

A user's settings are their entry of the company's description, changed through
`configuration.change_config` exactly as the API and `vaxel config apply` change it: the
form shows the same errors with the same paths (`users.3.forwarding.busy: ...`), each
next to its field, and a form with any error changes nothing. The SIP password is set
here and never shown back; the web login (role, web password) is the account's.

Every page is about the admin's own company; a provider admin names one with
`?company=`. Anything of another company is 404, as if it did not exist.

A user's page lists their devices registered now (user agent, transport, source address,
until when), read as GET /api/v1/companies/{domain}/users/{ext} reads them. Removing a
user takes a confirmation step and goes through `web.api.users.remove_user`, as the
API's DELETE: never oneself, never a user the description still names (the error says
where), never a user changed since the confirmation was shown.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import FormData

from vaxel.services import accounts, audit, call_records, configuration, users
from vaxel.services.call_records import CallFilter
from vaxel.services.companies import CompanyInfo
from vaxel.services.company_config import ConfigError
from vaxel.services.errors import Invalid, ServiceError
from vaxel.store.models import DISPOSITIONS
from vaxel.web.api.users import devices_of, remove_user
from vaxel.web.auth import audit_change
from vaxel.web.context import WebContext, blocking
from vaxel.web.pages.base import (
    Context,
    PageRoute,
    Seen,
    Viewer,
    check_csrf,
    company_page,
    field,
    link_for,
    redirect,
    render,
    wants_fragment,
)
from vaxel.web.pages.i18n import text
from vaxel.web.problems import Problem

router = APIRouter(prefix="/admin", route_class=PageRoute, include_in_schema=False)

PAGE = 25
Company = Annotated[str | None, Query(max_length=253)]
CALLER_IDS = ("main", "direct", "mobile", "support")
FORWARDINGS = ("always", "busy", "no_answer")


@router.get("")
def dashboard(request: Request, ctx: Context, v: Seen, company: Company = None) -> Response:
    """The overview: how many users, the numbers, the latest calls."""
    info = company_page(ctx, v, company)
    document = configuration.load_document(ctx.store, info.id)
    numbers = [n.number for n in document.numbers] if document is not None else []
    recent = call_records.search(ctx.store, info.domain, CallFilter(), limit=10)
    return render(request, "admin/dashboard.html", v, company=info, nav="dashboard",
                  users_count=users.count_users(ctx.store, info.id), numbers=numbers,
                  calls=recent)  # fmt: skip


# -- users -------------------------------------------------------------------------------


@router.get("/users")
def user_list(
    request: Request,
    ctx: Context,
    v: Seen,
    company: Company = None,
    q: Annotated[str, Query(max_length=100)] = "",
    after: Annotated[str | None, Query(max_length=8)] = None,
    done: str = "",
) -> Response:
    """A page of users, searched as one types (htmx asks for the rows alone)."""
    info = company_page(ctx, v, company)
    found = users.page_users(ctx.store, info.id, limit=PAGE, after=after or None, q=q)
    roles = accounts.roles_of(ctx.store, info.id, [u.extension for u in found])
    more = found[-1].extension if len(found) == PAGE else None
    template = "admin/_user_rows.html" if wants_fragment(request) else "admin/users.html"
    message = text(v.lang, "remove.done") if done == "removed" else ""
    return render(request, template, v, company=info, nav="users", users=found, roles=roles,
                  q=q, after=after, more=more, done=message)  # fmt: skip


def _entry(ctx: WebContext, domain: str, ext: str) -> dict[str, Any]:
    data, _ = configuration.export_data(ctx.store, domain)
    for user in data.get("users", []):
        if user["ext"] == ext:
            return dict(user)
    raise Problem(404, "")


def _values(entry: Mapping[str, Any], role: str | None) -> dict[str, str]:
    """A user's entry as the form's fields (never a password)."""
    forwarding = entry.get("forwarding") or {}
    values = {
        "ext": str(entry.get("ext", "")),
        "name": str(entry.get("name", "")),
        "ring_time": str(entry.get("ring_time", users.DEFAULT_RING_SECONDS)),
        "caller_id.show": str((entry.get("caller_id") or {}).get("show", "main")),
        "voicemail.enabled": "on" if (entry.get("voicemail") or {}).get("enabled", True) else "",
        "call_waiting": "on" if entry.get("call_waiting", True) else "",
        "web.role": role or "",
    }
    for kind in FORWARDINGS:
        values[f"forwarding.{kind}"] = str(forwarding.get(kind) or "")
    return values


def _edited(base: Mapping[str, Any], form: FormData) -> dict[str, Any]:
    """`base` (the stored entry, or a new one) with the form's fields written in."""
    entry = copy.deepcopy(dict(base))
    entry["name"] = field(form, "name")
    ring = field(form, "ring_time")
    entry["ring_time"] = int(ring) if ring.isdigit() else ring  # else: the model says why
    entry["forwarding"] = {
        kind: field(form, f"forwarding.{kind}")
        for kind in FORWARDINGS
        if field(form, f"forwarding.{kind}")
    }
    caller_id = dict(entry.get("caller_id") or {})
    caller_id["show"] = field(form, "caller_id.show") or "main"
    entry["caller_id"] = caller_id
    voicemail = dict(entry.get("voicemail") or {})
    voicemail["enabled"] = bool(form.get("voicemail.enabled"))
    entry["voicemail"] = voicemail
    entry["call_waiting"] = bool(form.get("call_waiting"))
    password = form.get("password")
    if isinstance(password, str) and password:
        entry["password"] = password
    return entry


def _errors_by_field(lines: list[str], index: int) -> tuple[dict[str, list[str]], list[str]]:
    """The description's errors about user `index`, by form field; the rest apart."""
    prefix = f"users.{index}."
    by_field: dict[str, list[str]] = {}
    rest: list[str] = []
    for line in lines:
        path = line.split(":", 1)[0]
        if path.startswith(prefix):
            name = path[len(prefix) :]
            name = "caller_id.show" if name.startswith("caller_id") else name
            name = "voicemail.enabled" if name.startswith("voicemail") else name
            by_field.setdefault(name, []).append(line)
        else:
            rest.append(line)
    return by_field, rest


def _user_form(
    request: Request,
    v: Viewer,
    company: CompanyInfo,
    *,
    new: bool,
    values: dict[str, str],
    errors: dict[str, list[str]] | None = None,
    general: list[str] | None = None,
    done: str = "",
    status: int = 200,
    devices: list[Phone] | None = None,
) -> Response:
    ext = values["ext"]
    own = v.who.account.company_id == company.id and v.who.account.extension == ext
    return render(request, "admin/user_form.html", v, status=status, company=company,
                  nav="users", new=new, values=values, errors=errors or {},
                  general=general or [], done=done, caller_ids=CALLER_IDS,
                  forwardings=FORWARDINGS, devices=devices or [],
                  remove=None if new or own else link_for(v, f"/admin/users/{ext}/remove",
                                                          company),
                  action=link_for(v, "/admin/users/new" if new
                                  else f"/admin/users/{ext}", company))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Phone:
    """A registered device as the user page shows it."""

    user_agent: str
    transport: str
    source: str
    expires_at: datetime


def _phones(ctx: WebContext, company: CompanyInfo, ext: str) -> list[Phone]:
    """The user's live registrations, from the service GET users/{ext} reads them with;
    the source `udp:192.0.2.4:5060` is split into its transport and address."""
    phones = []
    for device in devices_of(ctx, company, ext):
        transport, _, address = device.source.partition(":")
        if not address:
            transport, address = "", device.source
        phones.append(Phone(device.user_agent, transport.upper(), address, device.expires_at))
    return phones


@router.get("/users/new")
def new_user(request: Request, ctx: Context, v: Seen, company: Company = None) -> Response:
    info = company_page(ctx, v, company)
    return _user_form(request, v, info, new=True, values=_values({}, None))


@router.get("/users/{ext}")
def user_page(
    ext: str, request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
) -> Response:
    info = company_page(ctx, v, company)
    entry = _entry(ctx, info.domain, ext)
    role = accounts.roles_of(ctx.store, info.id, [ext]).get(ext)
    message = text(v.lang, f"user.{done}") if done in ("saved", "created") else ""
    values = {**_values(entry, role), "tag": configuration.entry_tag(entry)}
    return _user_form(request, v, info, new=False, values=values, done=message,
                      devices=_phones(ctx, info, ext))  # fmt: skip


def _removal(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    info: CompanyInfo,
    ext: str,
    *,
    general: list[str] | None = None,
    status: int = 200,
) -> Response:
    entry = _entry(ctx, info.domain, ext)
    own = v.who.account.company_id == info.id and v.who.account.extension == ext
    return render(request, "admin/user_remove.html", v, status=status, company=info,
                  nav="users", ext=ext, name=entry.get("name", ""), own=own,
                  tag=configuration.entry_tag(entry), general=general or [],
                  action=link_for(v, f"/admin/users/{ext}/remove", info),
                  back=link_for(v, f"/admin/users/{ext}", info))  # fmt: skip


@router.get("/users/{ext}/remove")
def confirm_removal(
    ext: str, request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    """The confirmation step before a user is removed."""
    info = company_page(ctx, v, company)
    return _removal(request, ctx, v, info, ext)


@router.post("/users/{ext}/remove")
async def remove(
    ext: str, request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    form = await request.form()
    check_csrf(request, v, form)
    response: Response = await blocking(_remove, request, ctx, v, company, ext, form)
    return response


def _remove(
    request: Request, ctx: WebContext, v: Viewer, company: str | None, ext: str, form: FormData
) -> Response:
    """Remove the user (the API's DELETE users/{ext}): not oneself, not one the description
    still names (a group's member: the error says where), not one changed since read."""
    info = company_page(ctx, v, company)
    try:
        remove_user(ctx, v.who, request, info, ext, field(form, "tag"))
    except ConfigError as exc:
        general = [text(v.lang, "remove.refused"), *exc.errors]
        return _removal(request, ctx, v, info, ext, general=general, status=422)
    except Problem as exc:
        if exc.status == 404:
            raise
        said = {412: "user.stale", 422: "remove.own"}.get(exc.status, "remove.refused")
        return _removal(request, ctx, v, info, ext, general=[text(v.lang, said)], status=422)
    return redirect(link_for(v, "/admin/users", info, done="removed"))


@router.post("/users/new")
async def add_user(request: Request, ctx: Context, v: Seen, company: Company = None) -> Response:
    form = await request.form()
    check_csrf(request, v, form)
    return await blocking(_save_user, request, ctx, v, company, None, form)


@router.post("/users/{ext}")
async def change_user(
    ext: str, request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    form = await request.form()
    check_csrf(request, v, form)
    return await blocking(_save_user, request, ctx, v, company, ext, form)


def _save_user(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    domain: str | None,
    ext: str | None,
    form: FormData,
) -> Response:
    """Add (`ext` None) or change a user: the description first, then the web login."""
    info = company_page(ctx, v, domain)
    new = ext is None
    ext = field(form, "ext") if ext is None else ext
    role = accounts.roles_of(ctx.store, info.id, [ext]).get(ext) if ext else None
    wanted_role = field(form, "web.role")
    web_password = form.get("web.password")
    web_password = web_password if isinstance(web_password, str) and web_password else None
    values = _values({}, None) if new else _values(_entry(ctx, info.domain, ext), role)
    values.update({name: field(form, name) for name in values if name != "ext"})
    values["tag"] = field(form, "tag")
    values["ext"] = ext
    values["voicemail.enabled"] = "on" if form.get("voicemail.enabled") else ""
    values["call_waiting"] = "on" if form.get("call_waiting") else ""

    def refuse(errors: dict[str, list[str]], general: list[str] | None = None) -> Response:
        return _user_form(request, v, info, new=new, values=values, errors=errors,
                          general=[text(v.lang, "user.errors"), *(general or [])],
                          status=422)  # fmt: skip

    # What the description cannot check: the web login's parts, before anything changes.
    early: dict[str, list[str]] = {}
    sip_password = form.get("password")
    if new and not (isinstance(sip_password, str) and sip_password):
        early["password"] = [f"password: {text(v.lang, 'user.new_needs_password')}"]
    if wanted_role and role is None and web_password is None:
        early["web.password"] = [f"web.password: {text(v.lang, 'user.web_needs_password')}"]
    if web_password is not None:
        try:
            accounts.validate_web_password(web_password)
        except Invalid as exc:
            early["web.password"] = [f"web.password: {exc.message}"]
    if wanted_role not in ("", "user", "admin"):
        early["web.role"] = ["web.role: use admin or user"]
    if v.role == "admin" and v.who.account.extension == ext and wanted_role != "admin":
        early["web.role"] = [f"web.role: {text(v.lang, 'user.own_role')}"]
    if early:
        return refuse(early)

    tag = field(form, "tag")  # the entry as the form was read: no unseen overwrite
    where = {"index": 0}
    before: dict[str, Any] = {}

    def change(data: dict[str, Any]) -> None:
        listed = data.setdefault("users", [])
        for i, user in enumerate(listed):
            if user["ext"] == ext:
                if new:
                    where["index"] = len(listed)  # where the new entry would have gone
                    raise Problem(409, "exists")
                if tag and configuration.entry_tag(user) != tag:
                    raise Problem(412, "stale")
                where["index"] = i
                before.clear()
                before.update(user)
                listed[i] = _edited(user, form)
                return
        if not new:
            raise Problem(404, "")
        where["index"] = len(listed)
        listed.append(_edited({"ext": ext}, form))

    try:
        _, after = configuration.change_config(
            ctx.store, info.domain, change, data=ctx.data, source_dir=ctx.uploads(info.domain),
            by_provider=v.role == "provider",
        )  # fmt: skip
    except ConfigError as exc:
        by_field, rest = _errors_by_field(exc.errors, where["index"])
        return refuse(by_field, rest)
    except Problem as exc:
        if exc.status == 412:
            return refuse({}, [text(v.lang, "user.stale")])
        if exc.status != 409:
            raise
        return refuse({"ext": [f"users.{where['index']}.ext: {text(v.lang, 'user.exists')}"]})
    except ServiceError as exc:  # such as a SIP password too short
        return refuse({}, [exc.message])
    entry = next(user for user in after["users"] if user["ext"] == ext)
    audit_change(ctx, v.who, request, "user.create" if new else "user.update", ext,
                 company_id=info.id, before=before or None, after=entry)  # fmt: skip
    if wanted_role or web_password is not None:
        accounts.set_user_account(ctx.store, info.domain, ext, password=web_password,
                                  role=wanted_role or None)  # fmt: skip
        changed = {"role": wanted_role or None,
                   "password": "changed" if web_password is not None else None}  # fmt: skip
        audit_change(ctx, v.who, request, "user.account", ext, company_id=info.id,
                     after={k: val for k, val in changed.items() if val is not None})  # fmt: skip
    done = "created" if new else "saved"
    return redirect(link_for(v, f"/admin/users/{ext}", info, done=done))


# -- calls and the audit log -------------------------------------------------------------


def _day(value: str, v: Viewer) -> datetime | None:
    """A date field (YYYY-MM-DD) as the start of that day in the company's zone."""
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(0), v.tz)
    except ValueError:
        raise Invalid(f"{value!r} is not a date (YYYY-MM-DD)") from None


@router.get("/calls")
def calls(
    request: Request,
    ctx: Context,
    v: Seen,
    company: Company = None,
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    user: Annotated[str, Query(max_length=8)] = "",
    number: Annotated[str, Query(max_length=32)] = "",
    disposition: Annotated[str, Query(max_length=16)] = "",
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Call records with filters; the CSV link asks the API for the same calls."""
    info = company_page(ctx, v, company)
    start, end = _day(since, v), _day(until, v)
    where = CallFilter(start, end, user or None, number or None, disposition or None)
    found = call_records.search(ctx.store, info.domain, where, limit=PAGE, before_id=before)
    filters = {"since": start.isoformat() if start else None,
               "until": end.isoformat() if end else None,
               "user": user, "number": number, "disposition": disposition}  # fmt: skip
    csv = f"/api/v1/companies/{info.domain}/calls.csv" + (
        "?" + urlencode({k: val for k, val in filters.items() if val}) if any(filters.values())
        else ""
    )  # fmt: skip
    older = None
    if len(found) == PAGE:
        older = link_for(v, "/admin/calls", info, since=since, until=until, user=user,
                                        number=number, disposition=disposition,
                                        before=found[-1].id)  # fmt: skip
    return render(request, "admin/calls.html", v, company=info, nav="calls", calls=found,
                  csv=csv, older=older, dispositions=DISPOSITIONS,
                  filters={"since": since, "until": until, "user": user, "number": number,
                           "disposition": disposition})  # fmt: skip


@router.get("/audit")
def audit_log(
    request: Request,
    ctx: Context,
    v: Seen,
    company: Company = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    info = company_page(ctx, v, company)
    found = audit.entries(ctx.store, info.id, limit=PAGE, before_id=before)
    older = link_for(v, "/admin/audit", info, before=found[-1].id) if len(found) == PAGE else None
    return render(request, "admin/audit.html", v, company=info, nav="audit", entries=found,
                  older=older)  # fmt: skip
