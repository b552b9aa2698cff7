"""The service provider's page of one company (S7, P1, P6, O2): /provider/companies/{domain}.

What only the provider sets for a company, each a form of its own on the page:

- number ranges (the numbers the company may put in its description; one that overlaps
  another company's is refused with the service's message), as PUT .../number-ranges;
- limits: the description's `outbound` section (destination classes allowed, calls at
  once; emergency calls are always allowed);
- trunks (`trunks`, each on a page of its own: `provider_trunks.py`) and `outbound_trunk`;
- the mail server and the SMS gateway (`mail`, `sms`);
- the company's admins: a user made an admin, or no longer (as `vaxel company admin`).

Secrets are write-only: a trunk's, a registration's and the mail server's password and
the SMS gateway's headers are never shown back; a field left empty keeps the stored one
(the description's own rule, `configuration.keep_secrets`). The description's sections
change through it (`settings.save_section`, `parts.save_item`), with its errors next to
their fields; every change is in the company's audit log. Anyone but a provider admin
gets 404 for every page here, as for a page that does not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from vaxel.services import accounts, configuration, number_ranges, users
from vaxel.services.companies import CompanyInfo, get_company
from vaxel.services.errors import Conflict, Invalid, NotFound
from vaxel.services.numbering import DESTINATION_CLASSES
from vaxel.web.api.sections import etag_of
from vaxel.web.auth import audit_change
from vaxel.web.context import WebContext, blocking
from vaxel.web.pages import parts
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
from vaxel.web.pages.settings import save_section
from vaxel.web.problems import Problem

router = APIRouter(prefix="/provider", route_class=PageRoute, include_in_schema=False)

MAIL_FIELDS = ("host", "port", "sender", "starttls", "username", "password")
SMS_FIELDS = ("url_template", "method", "body_template", "content_type", "headers", "timeout")
OUTBOUND_FIELDS = ("allowed", "max_concurrent_calls")
DONE = ("saved", "created", "removed", "admin", "revoked")


def provider_company(ctx: WebContext, v: Viewer, domain: str) -> CompanyInfo:
    """The company a provider page is about; 404 for anyone but a provider admin."""
    if v.role != "provider":
        raise Problem(404, "")
    try:
        return get_company(ctx.store, domain)
    except NotFound:
        raise Problem(404, "") from None


def base_of(info: CompanyInfo) -> str:
    return f"/provider/companies/{info.domain}"


@router.get("")
def home(v: Seen) -> Response:
    if v.role != "provider":
        raise Problem(404, "")
    return redirect("/admin/companies")


# -- the company page --------------------------------------------------------------------


def _stored(ctx: WebContext, info: CompanyInfo) -> dict[str, bool]:
    """Which secrets are stored (never what they are), for the fields' hints."""
    document = configuration.load_document(ctx.store, info.id)
    mail = document.mail if document is not None else None
    sms = document.sms if document is not None else None
    return {"mail.password": bool(mail is not None and mail.password),
            "sms.headers": bool(sms is not None and sms.headers)}  # fmt: skip


def _defaults(data: dict[str, Any]) -> dict[str, Any]:
    outbound = data.get("outbound") or {}
    allowed = outbound.get("allowed")
    mail = data.get("mail") or {}
    sms = data.get("sms") or {}
    return {
        "outbound.allowed": list(allowed) if allowed is not None else
        ["emergency", "national", "mobile", "international", "toll-free", "shared-cost"],
        "outbound.max_concurrent_calls": str(outbound.get("max_concurrent_calls", 10)),
        "outbound_trunk": data.get("outbound_trunk") or "",
        "mail.host": mail.get("host", "127.0.0.1") if mail else "",
        "mail.port": str(mail.get("port", 25)) if mail else "",
        "mail.sender": mail.get("sender", "voicemail@localhost") if mail else "",
        "mail.starttls": "on" if mail.get("starttls") else "",
        "mail.username": mail.get("username") or "",
        "sms.url_template": sms.get("url_template", ""),
        "sms.method": sms.get("method", "GET"),
        "sms.body_template": sms.get("body_template") or "",
        "sms.content_type": sms.get("content_type", "application/x-www-form-urlencoded"),
        "sms.timeout": str(sms.get("timeout", 5.0)),
        "ranges.first": "", "ranges.last": "", "admins.ext": "",
    }  # fmt: skip


def company_page_of(  # the company's page, with what a refused form sent
    request: Request,
    ctx: WebContext,
    v: Viewer,
    info: CompanyInfo,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    general: list[str] | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    data, _ = configuration.export_data(ctx.store, info.domain)
    exts = [user.extension for user in users.list_users(ctx.store, info.domain)]
    roles = accounts.roles_of(ctx.store, info.id, exts)
    names = {user["ext"]: user["name"] for user in data.get("users", [])}
    admins = [(ext, names.get(ext, "")) for ext in exts if roles.get(ext) == "admin"]
    trunks = data.get("trunks", {})
    return render(request, "provider/company.html", v, status=status, company=info,
                  nav="provider", values={**_defaults(data), **(values or {})},
                  errors=errors or {}, general=general or [], done=done,
                  ranges=number_ranges.ranges_of(ctx.store, info.id), trunks=trunks,
                  trunk_tags=parts.tags(trunks), classes=DESTINATION_CLASSES, admins=admins,
                  users=[(ext, names.get(ext, "")) for ext in exts if roles.get(ext) != "admin"],
                  stored=_stored(ctx, info), base=base_of(info),
                  tags={key: etag_of(data.get(key)) for key in
                        ("outbound", "outbound_trunk", "mail", "sms")})  # fmt: skip


@router.get("/companies/{domain}")
def company(domain: str, request: Request, ctx: Context, v: Seen, done: str = "") -> Response:
    """Everything the provider sets for one company."""
    info = provider_company(ctx, v, domain)
    message = text(v.lang, f"provider.{done}") if done in DONE else ""
    return company_page_of(request, ctx, v, info, done=message)


async def posted(request: Request, ctx: WebContext, v: Viewer, domain: str, work: Any) -> Response:
    """A provider page's POST: 404 before anything for anyone but a provider admin, then
    the CSRF token, then `work(request, ctx, v, company, form)` off the event loop."""
    info = await blocking(provider_company, ctx, v, domain)
    form = await request.form()
    check_csrf(request, v, form)
    response: Response = await blocking(work, request, ctx, v, info, form)
    return response


def _refused(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    info: CompanyInfo,
    form: FormData,
    prefix: str,
    outcome: parts.Outcome,
) -> Response:
    values: dict[str, Any] = {f"{prefix}.{key}": field(form, key) for key in form if key != "csrf"}
    if prefix == "outbound":
        values["outbound.allowed"] = [c for c in form.getlist("allowed") if isinstance(c, str)]
    errors = {f"{prefix}.{key}": lines for key, lines in outcome.errors.items()}
    return company_page_of(request, ctx, v, info, values=values, errors=errors,
                           general=outcome.general, status=422)  # fmt: skip


# -- number ranges -----------------------------------------------------------------------


@router.post("/companies/{domain}/ranges")
async def add_range(domain: str, request: Request, ctx: Context, v: Seen) -> Response:
    return await posted(request, ctx, v, domain, _add_range)


@router.post("/companies/{domain}/ranges/remove")
async def remove_range(domain: str, request: Request, ctx: Context, v: Seen) -> Response:
    return await posted(request, ctx, v, domain, _remove_range)


def _set_ranges(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    info: CompanyInfo,
    form: FormData,
    wanted: list[number_ranges.Range],
    done: str,
) -> Response:
    before = number_ranges.ranges_of(ctx.store, info.id)
    try:
        stored = number_ranges.set_ranges(ctx.store, info.id, wanted)
    except (Invalid, Conflict) as exc:
        outcome = parts.Outcome({"first": [exc.message]}, [text(v.lang, "part.errors")])
        return _refused(request, ctx, v, info, form, "ranges", outcome)
    audit_change(ctx, v.who, request, "number_ranges.set", info.domain, company_id=info.id,
                 before=[f"{r.first}-{r.last}" for r in before],
                 after=[f"{r.first}-{r.last}" for r in stored])  # fmt: skip
    return redirect(f"{base_of(info)}?done={done}#ranges-h")


def _add_range(
    request: Request, ctx: WebContext, v: Viewer, info: CompanyInfo, form: FormData
) -> Response:
    first, last = field(form, "first"), field(form, "last") or field(form, "first")
    try:
        wanted = number_ranges.parse_range(first, last)
    except Invalid as exc:
        outcome = parts.Outcome({"first": [exc.message]}, [text(v.lang, "part.errors")])
        return _refused(request, ctx, v, info, form, "ranges", outcome)
    ranges = [*number_ranges.ranges_of(ctx.store, info.id), wanted]
    return _set_ranges(request, ctx, v, info, form, ranges, "created")


def _remove_range(
    request: Request, ctx: WebContext, v: Viewer, info: CompanyInfo, form: FormData
) -> Response:
    ranges = number_ranges.ranges_of(ctx.store, info.id)
    kept = [r for r in ranges if (r.first, r.last) != (field(form, "first"), field(form, "last"))]
    if len(kept) == len(ranges):
        raise Problem(404, "")
    return _set_ranges(request, ctx, v, info, form, kept, "removed")


# -- limits, the outbound trunk, mail and SMS ----------------------------------------------


@router.post("/companies/{domain}/outbound")
async def outbound(domain: str, request: Request, ctx: Context, v: Seen) -> Response:
    return await posted(request, ctx, v, domain, _outbound)


def number(value: str) -> Any:
    """A whole number typed into a field; anything else is left for the model to refuse."""
    return int(value) if value.isdigit() else value


def _outbound(
    request: Request, ctx: WebContext, v: Viewer, info: CompanyInfo, form: FormData
) -> Response:
    allowed = [c for c in form.getlist("allowed") if isinstance(c, str)]

    def build(old: Any) -> dict[str, Any]:
        return {"allowed": sorted({*allowed, "emergency"}),
                "max_concurrent_calls": number(field(form, "max_concurrent_calls"))}  # fmt: skip

    outcome = save_section(request, ctx, v, info, "outbound", build, tag=field(form, "tag"),
                           fields=OUTBOUND_FIELDS)  # fmt: skip
    if not outcome.ok:
        return _refused(request, ctx, v, info, form, "outbound", outcome)
    return redirect(f"{base_of(info)}?done=saved#limits-h")


@router.post("/companies/{domain}/outbound-trunk")
async def outbound_trunk(domain: str, request: Request, ctx: Context, v: Seen) -> Response:
    return await posted(request, ctx, v, domain, _outbound_trunk)


def _outbound_trunk(
    request: Request, ctx: WebContext, v: Viewer, info: CompanyInfo, form: FormData
) -> Response:
    chosen = field(form, "outbound_trunk") or None
    outcome = save_section(request, ctx, v, info, "outbound_trunk", lambda old: chosen,
                           tag=field(form, "tag"), fields=())  # fmt: skip
    if not outcome.ok:  # the error's path is the section itself: shown at the field
        outcome = parts.Outcome({"outbound_trunk": outcome.general[1:]}, outcome.general[:1])
        values = {"outbound_trunk": chosen or ""}
        errors = outcome.errors
        return company_page_of(request, ctx, v, info, values=values, errors=errors,
                     general=outcome.general, status=422)  # fmt: skip
    return redirect(f"{base_of(info)}?done=saved#trunks-h")


@router.post("/companies/{domain}/mail")
async def mail(domain: str, request: Request, ctx: Context, v: Seen) -> Response:
    return await posted(request, ctx, v, domain, _mail)


def _mail(
    request: Request, ctx: WebContext, v: Viewer, info: CompanyInfo, form: FormData
) -> Response:
    remove = field(form, "remove") == "1"

    def build(old: Any) -> dict[str, Any] | None:
        if remove:
            return None
        section: dict[str, Any] = {"host": field(form, "host"),
                                   "port": number(field(form, "port") or "25"),
                                   "sender": field(form, "sender"),
                                   "starttls": bool(form.get("starttls"))}  # fmt: skip
        if field(form, "username"):
            section["username"] = field(form, "username")
        password = form.get("password")
        if isinstance(password, str) and password:
            section["password"] = password  # else: the stored one is kept
        return section

    outcome = save_section(request, ctx, v, info, "mail", build, tag=field(form, "tag"),
                           fields=MAIL_FIELDS)  # fmt: skip
    if not outcome.ok:
        return _refused(request, ctx, v, info, form, "mail", outcome)
    return redirect(f"{base_of(info)}?done={'removed' if remove else 'saved'}#mail-h")


@router.post("/companies/{domain}/sms")
async def sms(domain: str, request: Request, ctx: Context, v: Seen) -> Response:
    return await posted(request, ctx, v, domain, _sms)


def _headers(value: str) -> dict[str, str] | str:
    """`Name: value` lines as a dict (the model checks the names); a line without a
    colon is returned as the error."""
    found: dict[str, str] = {}
    for line in value.splitlines():
        if not line.strip():
            continue
        name, colon, rest = line.partition(":")
        if not colon:
            return line
        found[name.strip()] = rest.strip()
    return found


def _sms(
    request: Request, ctx: WebContext, v: Viewer, info: CompanyInfo, form: FormData
) -> Response:
    remove = field(form, "remove") == "1"
    raw = form.get("headers")
    headers = _headers(raw if isinstance(raw, str) else "")
    if isinstance(headers, str):
        line = f"sms.headers: {text(v.lang, 'provider.header_line')}"
        outcome = parts.Outcome({"headers": [line]}, [text(v.lang, "part.errors")])
        return _refused(request, ctx, v, info, form, "sms", outcome)

    def build(old: Any) -> dict[str, Any] | None:
        if remove:
            return None
        section: dict[str, Any] = {"url_template": field(form, "url_template"),
                                   "method": field(form, "method") or "GET",
                                   "content_type": field(form, "content_type")
                                   or "application/x-www-form-urlencoded",
                                   "timeout": field(form, "timeout") or "5"}  # fmt: skip
        if field(form, "body_template"):
            section["body_template"] = field(form, "body_template")
        if headers:
            section["headers"] = headers  # else: the stored ones are kept
        return section

    outcome = save_section(request, ctx, v, info, "sms", build, tag=field(form, "tag"),
                           fields=SMS_FIELDS)  # fmt: skip
    if not outcome.ok:
        return _refused(request, ctx, v, info, form, "sms", outcome)
    return redirect(f"{base_of(info)}?done={'removed' if remove else 'saved'}#sms-h")


# -- the company's admins ------------------------------------------------------------------


@router.post("/companies/{domain}/admins")
async def admins(domain: str, request: Request, ctx: Context, v: Seen) -> Response:
    return await posted(request, ctx, v, domain, _admins)


def _admins(
    request: Request, ctx: WebContext, v: Viewer, info: CompanyInfo, form: FormData
) -> Response:
    """Make a user a company admin, or no longer (`vaxel company admin [--revoke]`)."""
    ext = field(form, "ext")
    revoke = field(form, "revoke") == "1"
    role = "user" if revoke else "admin"
    password = form.get("password")
    password = password if isinstance(password, str) and password else None
    try:
        accounts.set_user_account(ctx.store, info.domain, ext, password=password, role=role)
    except (Invalid, NotFound, Conflict) as exc:
        outcome = parts.Outcome({"ext": [f"{ext}: {exc.message}"]}, [text(v.lang, "part.errors")])
        return _refused(request, ctx, v, info, form, "admins", outcome)
    changed: dict[str, str] = {"role": role}
    if password is not None:
        changed["password"] = "changed"
    audit_change(ctx, v.who, request, "user.account", ext, company_id=info.id, after=changed)
    return redirect(f"{base_of(info)}?done={'revoked' if revoke else 'admin'}#admins-h")
