"""The service provider's page (S7, P1): the companies, and adding one.

A company is added with `companies.add_company`, as POST /api/v1/companies does, and
filed in the provider's audit log; a bad domain or a taken one is shown next to the
field. Each company's own pages open with `?company=DOMAIN`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import FormData

from vaxel.services import companies
from vaxel.services.errors import Conflict, Invalid
from vaxel.web.auth import audit_change
from vaxel.web.context import WebContext, blocking
from vaxel.web.pages.base import (
    Context,
    PageRoute,
    Seen,
    Viewer,
    check_csrf,
    field,
    need_provider,
    redirect,
    render,
)
from vaxel.web.pages.i18n import text

router = APIRouter(prefix="/admin", route_class=PageRoute, include_in_schema=False)

PAGE = 50


def _page(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    *,
    q: str = "",
    after: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    found = companies.page_companies(ctx.store, limit=PAGE, after=after or None, q=q)
    more = found[-1].domain if len(found) == PAGE else None
    return render(request, "admin/companies.html", v, status=status, nav="companies",
                  companies=found, q=q, more=more, values=values or {"domain": "", "name": ""},
                  errors=errors or {}, done=done)  # fmt: skip


@router.get("/companies")
def company_list(
    request: Request,
    ctx: Context,
    v: Seen,
    q: Annotated[str, Query(max_length=100)] = "",
    after: Annotated[str | None, Query(max_length=253)] = None,
    done: str = "",
) -> Response:
    need_provider(v)
    message = text(v.lang, "companies.added") if done == "added" else ""
    return _page(request, ctx, v, q=q, after=after, done=message)


@router.post("/companies")
async def add_company(request: Request, ctx: Context, v: Seen) -> Response:
    need_provider(v)
    form = await request.form()
    check_csrf(request, v, form)
    return await blocking(_add, request, ctx, v, form)


def _add(request: Request, ctx: WebContext, v: Viewer, form: FormData) -> Response:
    values = {"domain": field(form, "domain"), "name": field(form, "name")}
    try:
        info = companies.add_company(ctx.store, values["domain"], values["name"])
    except (Invalid, Conflict) as exc:
        name = "name" if exc.message.startswith("name") else "domain"
        return _page(request, ctx, v, values=values, errors={name: [exc.message]}, status=422)
    audit_change(ctx, v.who, request, "company.create", info.domain, company_id=None,
                 after={"domain": info.domain, "name": info.name})  # fmt: skip
    return redirect("/admin/companies?done=added")
