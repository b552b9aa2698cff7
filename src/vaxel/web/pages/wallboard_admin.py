"""The wallboard's tokens for a company admin (A11): /admin/wallboard.

Lists the company's wallboard tokens (name, who made it, when), makes one and revokes
one, through `services/wallboard_tokens.py` as the API's .../wallboard/tokens do, each
change in the audit log. A new token's address (`/wallboard#<token>`) is shown once, on
the answer to the POST that made it (the page is never cached): only its hash is kept.
The page links to the wallboard itself, which the admin's session opens too.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from vaxel.services import wallboard_tokens
from vaxel.services.companies import CompanyInfo
from vaxel.services.errors import Invalid
from vaxel.web.api.wallboard import wallboard_url
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
)
from vaxel.web.pages.i18n import text
from vaxel.web.problems import RowId

router = APIRouter(prefix="/admin", route_class=PageRoute, include_in_schema=False)


def _page(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    company: CompanyInfo,
    *,
    made: str = "",
    errors: dict[str, list[str]] | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    found = wallboard_tokens.list_tokens(ctx.store, company.id)
    board = link_for(v, "/wallboard", company)
    return render(request, "admin/wallboard.html", v, status=status, nav="wallboard",
                  tokens=found, made=made, errors=errors or {}, done=done, board=board,
                  general=[text(v.lang, "part.errors")] if errors else [],
                  company=company)  # fmt: skip


@router.get("/wallboard")
def tokens(
    request: Request, ctx: Context, v: Seen, company: str | None = None, done: str = ""
) -> Response:
    found = company_page(ctx, v, company)
    message = text(v.lang, "wallboards.revoked") if done == "revoked" else ""
    return _page(request, ctx, v, found, done=message)


@router.post("/wallboard")
async def make(request: Request, ctx: Context, v: Seen, company: str | None = None) -> Response:
    found = company_page(ctx, v, company)
    form = await request.form()
    check_csrf(request, v, form)
    response: Response = await blocking(_make, request, ctx, v, found, form)
    return response


def _make(
    request: Request, ctx: WebContext, v: Viewer, company: CompanyInfo, form: FormData
) -> Response:
    name = field(form, "name")
    try:
        token, info = wallboard_tokens.create(
            ctx.store, company.id, name, v.who.account.login, ctx.now()
        )
    except Invalid as exc:
        return _page(request, ctx, v, company, errors={"name": [exc.message]}, status=422)
    audit_change(ctx, v.who, request, "wallboard.token.create", info.name, company_id=company.id,
                 after={"id": info.id, "name": info.name})  # fmt: skip
    done = text(v.lang, "wallboards.made", name=info.name)
    return _page(request, ctx, v, company, made=wallboard_url(request, token), done=done)


@router.post("/wallboard/{token_id}/revoke")
async def revoke(
    token_id: RowId, request: Request, ctx: Context, v: Seen, company: str | None = None
) -> Response:
    found = company_page(ctx, v, company)
    form = await request.form()
    check_csrf(request, v, form)
    await blocking(_revoke, request, ctx, v, found, token_id)
    return redirect(link_for(v, "/admin/wallboard", found, done="revoked"))


def _revoke(
    request: Request, ctx: WebContext, v: Viewer, company: CompanyInfo, token_id: int
) -> None:
    info = wallboard_tokens.revoke(ctx.store, company.id, token_id)  # NotFound: a 404 page
    audit_change(ctx, v.who, request, "wallboard.token.revoke", info.name, company_id=company.id,
                 before={"id": info.id, "name": info.name})  # fmt: skip
