"""The service provider's administrators (P1, S7): /admin/admins, for provider admins.

Listed by e-mail, added with an e-mail and a web password, removed with a button (never
oneself); the same functions as /api/v1/admins, each change in the provider's audit log.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from vaxel.services import accounts
from vaxel.services.errors import Conflict, Invalid
from vaxel.web.api.admins import add_admin, remove_admin
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
from vaxel.web.problems import RowId

router = APIRouter(prefix="/admin", route_class=PageRoute, include_in_schema=False)

DONE = {"added": "admins.added", "removed": "admins.removed"}


def _page(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    return render(request, "admin/admins.html", v, status=status, nav="admins",
                  admins=accounts.provider_admins(ctx.store), values=values or {"email": ""},
                  errors=errors or {}, done=done,
                  general=[text(v.lang, "part.errors")] if errors else [])  # fmt: skip


@router.get("/admins")
def admin_list(request: Request, ctx: Context, v: Seen, done: str = "") -> Response:
    need_provider(v)
    return _page(request, ctx, v, done=text(v.lang, DONE[done]) if done in DONE else "")


@router.post("/admins")
async def add(request: Request, ctx: Context, v: Seen) -> Response:
    need_provider(v)
    form = await request.form()
    check_csrf(request, v, form)
    response: Response = await blocking(_add, request, ctx, v, form)
    return response


def _add(request: Request, ctx: WebContext, v: Viewer, form: FormData) -> Response:
    values = {"email": field(form, "email")}
    password = form.get("password")
    try:
        add_admin(ctx, v.who, request, values["email"], password if isinstance(password, str)
                  else "")  # fmt: skip
    except (Invalid, Conflict) as exc:
        name = "password" if "password" in exc.message else "email"
        return _page(request, ctx, v, values=values, errors={name: [exc.message]}, status=422)
    return redirect("/admin/admins?done=added")


@router.post("/admins/{account_id}/remove")
async def remove(account_id: RowId, request: Request, ctx: Context, v: Seen) -> Response:
    need_provider(v)
    form = await request.form()
    check_csrf(request, v, form)
    response: Response = await blocking(_remove, request, ctx, v, account_id)
    return response


def _remove(request: Request, ctx: WebContext, v: Viewer, account_id: int) -> Response:
    try:
        remove_admin(ctx, v.who, request, account_id)
    except Invalid as exc:
        return _page(request, ctx, v, errors={"remove": [exc.message]}, status=422)
    return redirect("/admin/admins?done=removed")
