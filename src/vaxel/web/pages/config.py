"""The whole description from the browser (S7, P7, O2): every setting, including those
without a page of their own.

/admin/config shows the description as YAML in a text box, the same text `vaxel config
export` prints (never a secret: applied back, the stored ones are kept), and a download
of it. A save applies it as `vaxel config apply` and PUT /api/v1/companies/{domain}/config
do, with their checks (`companies.check_description`), and only onto the version the
page was read from: when someone changed the description meanwhile, nothing is saved,
the admin is told to reload, and their text stays in the box. Errors are listed with
their paths; a company admin's change to the provider's sections (trunks, outbound,
mail, sms) is refused with the description's own message.
"""

from __future__ import annotations

from typing import Any

import yaml
from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from vaxel.services import configuration
from vaxel.services.companies import CompanyInfo
from vaxel.services.company_config import ConfigError
from vaxel.services.errors import ServiceError, Stale
from vaxel.web.api.companies import MAX_DESCRIPTION, check_description
from vaxel.web.auth import audit_change
from vaxel.web.context import WebContext, blocking
from vaxel.web.pages.admin import Company
from vaxel.web.pages.base import (
    Context,
    PageRoute,
    Seen,
    Viewer,
    check_csrf,
    company_page,
    link_for,
    redirect,
    render,
)
from vaxel.web.pages.i18n import text

router = APIRouter(prefix="/admin", route_class=PageRoute, include_in_schema=False)


def _yaml(data: dict[str, Any]) -> str:
    return configuration.EXPORT_HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _page(
    request: Request,
    v: Viewer,
    info: CompanyInfo,
    body: str,
    version: int,
    *,
    errors: list[str] | None = None,
    stale: bool = False,
    done: str = "",
    status: int = 200,
) -> Response:
    general = []
    if stale:
        general = [text(v.lang, "config.stale")]
    elif errors:
        general = [text(v.lang, "part.errors")]
    return render(request, "admin/config.html", v, status=status, company=info, nav="config",
                  body=body, version=version, errors=errors or [], general=general, done=done,
                  action=link_for(v, "/admin/config", info),
                  download=link_for(v, "/admin/config.yaml", info))  # fmt: skip


@router.get("/config")
def description(
    request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
) -> Response:
    """The description as YAML, to read, change and save as a whole."""
    info = company_page(ctx, v, company)
    data, version = configuration.export_data(ctx.store, info.domain)
    message = text(v.lang, "part.saved") if done == "saved" else ""
    return _page(request, v, info, _yaml(data), version, done=message)


@router.get("/config.yaml")
def download(request: Request, ctx: Context, v: Seen, company: Company = None) -> Response:
    """The same text as a file, as `vaxel config export > acme.yaml` would write it."""
    info = company_page(ctx, v, company)
    data, _ = configuration.export_data(ctx.store, info.domain)
    saved_as = f'attachment; filename="{info.domain}.yaml"'
    return Response(_yaml(data), media_type="application/yaml",
                    headers={"Content-Disposition": saved_as})  # fmt: skip


@router.post("/config")
async def save(request: Request, ctx: Context, v: Seen, company: Company = None) -> Response:
    form = await request.form()
    check_csrf(request, v, form)
    response: Response = await blocking(_save, request, ctx, v, company, form)
    return response


def _save(
    request: Request, ctx: WebContext, v: Viewer, company: str | None, form: FormData
) -> Response:
    info = company_page(ctx, v, company)
    raw = form.get("body")
    body = raw.replace("\r\n", "\n") if isinstance(raw, str) else ""
    sent_version = form.get("version")
    version = int(sent_version) if isinstance(sent_version, str) and sent_version.isdigit() else -1

    def refuse(errors: list[str], *, stale: bool = False, status: int = 422) -> Response:
        return _page(request, v, info, body, version, errors=errors, stale=stale, status=status)

    if len(body.encode()) > MAX_DESCRIPTION:
        return refuse([f"(file): a description is at most {MAX_DESCRIPTION // 1024} KiB"])
    before, current = configuration.export_data(ctx.store, info.domain)
    if version != current:
        return refuse([], stale=True, status=409)
    try:
        config = configuration.load_yaml(body)
        check_description(config, info, v.who)
        configuration.apply_config(
            ctx.store, config, data=ctx.data, source_dir=ctx.uploads(info.domain),
            expected_version=current, by_provider=v.role == "provider",
        )  # fmt: skip
    except ConfigError as exc:
        return refuse(exc.errors)
    except Stale:
        return refuse([], stale=True, status=409)
    except ServiceError as exc:  # such as a company name the companies table refuses
        return refuse([exc.message])
    after, _ = configuration.export_data(ctx.store, info.domain)
    audit_change(ctx, v.who, request, "config.replace", info.domain, company_id=info.id,
                 before=before, after=after)  # fmt: skip
    return redirect(link_for(v, "/admin/config", info, done="saved"))
