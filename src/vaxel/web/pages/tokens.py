"""API tokens from the browser, for every logged-in account (P8, O2): /tokens.

The page lists the account's tokens (name, scopes, when made, when last used), makes
one (a name and the scopes read, write, calls) and revokes one, through
`services/web_sessions.py` as POST/GET/DELETE /api/v1/tokens do, each change in the
audit log. A new token is shown once, on the answer to the POST that made it (the page
is never cached), and never again: only its hash is kept.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from vaxel.services import web_sessions
from vaxel.services.errors import Invalid
from vaxel.web.auth import audit_change
from vaxel.web.context import WebContext, blocking
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
from vaxel.web.problems import RowId

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _page(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    *,
    made: str = "",
    values: dict[str, object] | None = None,
    errors: dict[str, list[str]] | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    found = web_sessions.list_tokens(ctx.store, v.who.account.id)
    chosen = {"name": "", "scopes": ["read"], **(values or {})}
    return render(request, "tokens.html", v, status=status, nav="tokens", tokens=found,
                  scopes=web_sessions.SCOPES, made=made, values=chosen, errors=errors or {},
                  general=[text(v.lang, "part.errors")] if errors else [], done=done,
                  company=v.company)  # fmt: skip


@router.get("/tokens")
def tokens(request: Request, ctx: Context, v: Seen, done: str = "") -> Response:
    """The account's API tokens."""
    message = text(v.lang, "tokens.revoked") if done == "revoked" else ""
    return _page(request, ctx, v, done=message)


@router.post("/tokens")
async def make(request: Request, ctx: Context, v: Seen) -> Response:
    form = await request.form()
    check_csrf(request, v, form)
    response: Response = await blocking(_make, request, ctx, v, form)
    return response


def _make(request: Request, ctx: WebContext, v: Viewer, form: FormData) -> Response:
    name = field(form, "name")
    scopes = [scope for scope in form.getlist("scopes") if isinstance(scope, str)]
    values: dict[str, object] = {"name": name, "scopes": scopes}
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [f"name: {text(v.lang, 'tokens.name_needed')}"]
    try:
        web_sessions.validate_scopes(scopes)
    except Invalid:
        errors["scopes"] = [f"scopes: {text(v.lang, 'tokens.scopes_needed')}"]
    if errors:
        return _page(request, ctx, v, values=values, errors=errors, status=422)
    try:
        token, info = web_sessions.create_token(ctx.store, v.who.account, name, scopes, ctx.now())
    except Invalid as exc:  # a name too long, too many tokens
        key = "name" if "name" in exc.message else "scopes"
        return _page(request, ctx, v, values=values, errors={key: [exc.message]}, status=422)
    audit_change(ctx, v.who, request, "token.create", info.name,
                 company_id=v.who.account.company_id,
                 after={"scopes": list(info.scopes)})  # fmt: skip
    return _page(request, ctx, v, made=token, done=text(v.lang, "tokens.made", name=info.name))


@router.post("/tokens/{token_id}/revoke")
async def revoke(token_id: RowId, request: Request, ctx: Context, v: Seen) -> Response:
    form = await request.form()
    check_csrf(request, v, form)
    await blocking(_revoke, request, ctx, v, token_id)
    return redirect("/tokens?done=revoked")


def _revoke(request: Request, ctx: WebContext, v: Viewer, token_id: int) -> None:
    web_sessions.revoke_token(ctx.store, v.who.account.id, token_id)
    audit_change(ctx, v.who, request, "token.revoke", str(token_id),
                 company_id=v.who.account.company_id)  # fmt: skip
