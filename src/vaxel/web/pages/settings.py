"""The company's settings page, and saving one whole section of the description (S7, U9).

/admin/company is the description's `company` section: name, time zone, language,
support number, the operator (where a caller who presses 0 goes) and how long voicemail
is kept. The domain is what the company is and is only shown. A save goes through the
whole description (`save_section`, as PUT /api/v1/companies/{domain}/settings does), so
a bad value gets the error `vaxel config apply` prints, next to its field, and nothing
changes; a form read before someone else's change is refused (stale), not saved over it.

`save_section` is shared with the provider's pages (outbound limits, mail, SMS).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from vaxel.services import configuration
from vaxel.services.companies import CompanyInfo, validate_name
from vaxel.services.company_config import STORED, CompanySection, ConfigError
from vaxel.services.errors import Invalid, ServiceError
from vaxel.web.api.sections import etag_of
from vaxel.web.auth import audit_change
from vaxel.web.context import WebContext, blocking
from vaxel.web.pages import parts
from vaxel.web.pages.admin import Company
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
)
from vaxel.web.pages.i18n import text
from vaxel.web.pages.routing import KINDS
from vaxel.web.problems import Problem

router = APIRouter(prefix="/admin", route_class=PageRoute, include_in_schema=False)

FIELDS = ("name", "timezone", "language", "support_number", "operator",
          "voicemail_retention_days")  # fmt: skip
ZONES = sorted(available_timezones())


def save_section(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    info: CompanyInfo,
    section: str,
    build: Callable[[Any], Any],
    *,
    tag: str,
    fields: Iterable[str],
    action: str | None = None,
) -> parts.Outcome:
    """Replace the top-level `section` with `build(old)` (None removes it), through the
    whole description. `tag` is the ETag the form was read with ('' for none)."""
    before: dict[str, Any] = {}

    def change(data: dict[str, Any]) -> None:
        old = data.get(section)
        if tag and etag_of(old) != tag:
            raise Problem(412, "stale")
        before["value"] = old
        new = build(old)
        if new is None:
            data.pop(section, None)
        else:
            data[section] = new

    try:
        _, after = configuration.change_config(
            ctx.store, info.domain, change, data=ctx.data, source_dir=ctx.uploads(info.domain),
            by_provider=v.role == "provider",
        )  # fmt: skip
    except ConfigError as exc:
        by_field, rest = parts.split_errors(exc.errors, f"{section}.", fields)
        return parts.Outcome(by_field, [text(v.lang, "part.errors"), *rest])
    except Problem as exc:
        if exc.status != 412:
            raise
        return parts.Outcome({}, [text(v.lang, "part.errors"), text(v.lang, "part.stale")])
    except ServiceError as exc:
        return parts.Outcome({}, [text(v.lang, "part.errors"), exc.message])
    stored = after.get(section)
    audit_change(ctx, v.who, request, action or f"{section}.put", info.domain,
                 company_id=info.id, before=before.get("value"), after=stored)  # fmt: skip
    return parts.Outcome(item={"value": stored})


def _values(section: dict[str, Any]) -> dict[str, str]:
    """The company section as the form's fields, defaults filled in."""
    full = CompanySection.model_validate(section, context=STORED).model_dump(mode="json")
    kind, target = parts.destination_fields(section.get("operator"))
    retention = full.get("voicemail_retention_days")
    return {"name": full["name"], "timezone": full["timezone"], "language": full["language"],
            "support_number": full.get("support_number") or "", "operator.kind": kind,
            "operator.target": target,
            "voicemail_retention_days": "" if retention is None else str(retention)}  # fmt: skip


def _page(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    info: CompanyInfo,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    general: list[str] | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    data, _ = configuration.export_data(ctx.store, info.domain)
    section = dict(data.get("company", {}))
    return render(request, "admin/company.html", v, status=status, company=info,
                  nav="company", values={**_values(section), **(values or {})},
                  tag=etag_of(section), errors=errors or {}, general=general or [], done=done,
                  kinds=KINDS, zones=ZONES,
                  action=link_for(v, "/admin/company", info))  # fmt: skip


@router.get("/company")
def company_settings(
    request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
) -> Response:
    """The company's own settings (the description's `company` section)."""
    info = company_page(ctx, v, company)
    message = text(v.lang, "part.saved") if done == "saved" else ""
    return _page(request, ctx, v, info, done=message)


@router.post("/company")
async def save_company(
    request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    form = await request.form()
    check_csrf(request, v, form)
    response: Response = await blocking(_save, request, ctx, v, company, form)
    return response


def _save(
    request: Request, ctx: WebContext, v: Viewer, company: str | None, form: FormData
) -> Response:
    info = company_page(ctx, v, company)
    values = {key: field(form, key) for key in (*FIELDS, "operator.kind", "operator.target")}
    try:
        validate_name(values["name"])
    except Invalid as exc:
        return _page(request, ctx, v, info, values=values, status=422,
                     errors={"name": [f"company.name: {exc.message}"]},
                     general=[text(v.lang, "part.errors")])  # fmt: skip

    def build(old: Any) -> dict[str, Any]:
        section = dict(old or {})
        section.update(domain=info.domain, name=values["name"], timezone=values["timezone"],
                       language=values["language"])  # fmt: skip
        for key in ("support_number", "voicemail_retention_days"):
            section.pop(key, None)
        if values["support_number"]:
            section["support_number"] = values["support_number"]
        days = values["voicemail_retention_days"]
        if days:
            section["voicemail_retention_days"] = int(days) if days.isdigit() else days
        section.pop("operator", None)
        operator = parts.destination(values["operator.kind"], values["operator.target"])
        if operator is not None:
            section["operator"] = operator
        return section

    outcome = save_section(request, ctx, v, info, "company", build, tag=field(form, "tag"),
                           fields=FIELDS, action="company.settings")  # fmt: skip
    if not outcome.ok:
        return _page(request, ctx, v, info, values=values, errors=outcome.errors,
                     general=outcome.general, status=422)  # fmt: skip
    return redirect(link_for(v, "/admin/company", info, done="saved"))
