"""A trunk of a company from the provider's pages (S7, P6, O2):
/provider/companies/{domain}/trunks/{name}.

A carrier's SIP peer: its address, port and transport, the carrier's domain, the
username and password that answer its challenges, and the registration with it. The
passwords are write-only: never shown back, an empty field keeps the stored one (a new
username needs its password, the description's rule). A trunk is added, changed and
removed through the description (`parts.save_item`), so its errors are the ones `vaxel
config apply` prints, next to their fields; removing the outbound trunk is refused with
the description's message. 404 to anyone but a provider admin.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from vaxel.services import configuration
from vaxel.services.companies import CompanyInfo
from vaxel.services.company_config import NAME
from vaxel.web.api.sections import etag_of
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
from vaxel.web.pages.provider_company import (
    base_of,
    company_page_of,
    number,
    posted,
    provider_company,
)
from vaxel.web.problems import Problem

router = APIRouter(prefix="/provider", route_class=PageRoute, include_in_schema=False)

TRUNK_FIELDS = ("name", "host", "port", "transport", "domain", "ca_file", "username", "password",
                "registration.username", "registration.password", "registration.expires",
                "registration")  # fmt: skip


def _trunk_values(name: str, trunk: dict[str, Any]) -> dict[str, str]:
    registration = trunk.get("registration") or {}
    return {"name": name, "host": str(trunk.get("host", "")), "port": str(trunk.get("port", 5060)),
            "transport": str(trunk.get("transport", "udp")),
            "domain": str(trunk.get("domain") or ""), "username": str(trunk.get("username") or ""),
            "ca_file": str(trunk.get("ca_file") or ""),
            "registration.username": str(registration.get("username") or ""),
            "registration.expires": str(registration.get("expires", 600))}  # fmt: skip


def _trunk_page(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    info: CompanyInfo,
    name: str,
    *,
    new: bool = False,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    general: list[str] | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    found = parts.items(ctx, info, "trunks")
    if not new and name not in found:
        raise Problem(404, "")
    trunk = found.get(name, {})
    document = configuration.load_document(ctx.store, info.id)
    stored = document.trunks.get(name) if document is not None and not new else None
    secrets = {"password": bool(stored is not None and stored.password),
               "registration.password": bool(stored is not None and stored.registration
                                             and stored.registration.password)}  # fmt: skip
    base = f"{base_of(info)}/trunks"
    return render(request, "provider/trunk.html", v, status=status, company=info,
                  nav="provider", new=new, name=name,
                  values={**_trunk_values(name, trunk), **(values or {})},
                  tag=etag_of(trunk) if trunk else "", errors=errors or {},
                  general=general or [], done=done, stored=secrets,
                  action=f"{base}/new" if new else f"{base}/{name}",
                  back=f"{base_of(info)}#trunks-h")  # fmt: skip


@router.get("/companies/{domain}/trunks/new")
def new_trunk(domain: str, request: Request, ctx: Context, v: Seen, name: str = "") -> Response:
    info = provider_company(ctx, v, domain)
    return _trunk_page(request, ctx, v, info, name[:40], new=True)


@router.get("/companies/{domain}/trunks/{name}")
def trunk(
    domain: str, name: str, request: Request, ctx: Context, v: Seen, done: str = ""
) -> Response:
    info = provider_company(ctx, v, domain)
    message = text(v.lang, f"part.{done}") if done in ("saved", "created") else ""
    return _trunk_page(request, ctx, v, info, name, done=message)


@router.post("/companies/{domain}/trunks/remove")
async def remove_trunk(domain: str, request: Request, ctx: Context, v: Seen) -> Response:
    return await posted(request, ctx, v, domain, _remove_trunk)


def _remove_trunk(
    request: Request, ctx: WebContext, v: Viewer, info: CompanyInfo, form: FormData
) -> Response:
    outcome = parts.save_item(request, ctx, v, info, "trunks", field(form, "name"),
                              lambda old: None, tag=field(form, "tag"), fields=())  # fmt: skip
    if not outcome.ok:
        return company_page_of(request, ctx, v, info, general=outcome.general, status=422)
    return redirect(f"{base_of(info)}?done=removed#trunks-h")


@router.post("/companies/{domain}/trunks/{name}")
async def save_trunk(domain: str, name: str, request: Request, ctx: Context, v: Seen) -> Response:
    info = await blocking(provider_company, ctx, v, domain)
    form = await request.form()
    check_csrf(request, v, form)
    response: Response = await blocking(_save_trunk, request, ctx, v, info, name, form)
    return response


def _save_trunk(
    request: Request, ctx: WebContext, v: Viewer, info: CompanyInfo, name: str, form: FormData
) -> Response:
    new = name == "new"
    name = field(form, "name") if new else name
    secret = ("csrf", "password", "registration.password")  # never shown back
    values = {key: field(form, key) for key in form if key not in secret}

    def refuse(errors: dict[str, list[str]], general: list[str]) -> Response:
        return _trunk_page(request, ctx, v, info, name, new=new, values=values,
                           errors=errors, general=general, status=422)  # fmt: skip

    if new and not re.match(NAME, name):
        return refuse({"name": [f"trunks.{name}: {text(v.lang, 'part.bad_name')}"]},
                      [text(v.lang, "part.errors")])  # fmt: skip

    def build(old: dict[str, Any] | None) -> dict[str, Any]:
        trunk: dict[str, Any] = {"host": field(form, "host"),
                                 "port": number(field(form, "port") or "5060"),
                                 "transport": field(form, "transport") or "udp"}  # fmt: skip
        for key in ("domain", "ca_file", "username"):
            if field(form, key):
                trunk[key] = field(form, key)
        password = form.get("password")
        if isinstance(password, str) and password:
            trunk["password"] = password  # else: the stored one is kept (same username)
        if field(form, "registration.username"):
            registration: dict[str, Any] = {
                "username": field(form, "registration.username"),
                "expires": number(field(form, "registration.expires") or "600"),
            }
            secret = form.get("registration.password")
            if isinstance(secret, str) and secret:
                registration["password"] = secret
            trunk["registration"] = registration
        return trunk

    outcome = parts.save_item(request, ctx, v, info, "trunks", name, build,
                              tag=field(form, "tag"), fields=TRUNK_FIELDS, new=new)  # fmt: skip
    if not outcome.ok:
        return refuse(outcome.errors, outcome.general)
    done = "created" if new else "saved"
    return redirect(f"{base_of(info)}/trunks/{name}?done={done}")
