"""The queues live, the wallboard's settings and its read-only tokens (A11).

- `GET /api/v1/companies/{domain}/statistics/queues/live`: each queue group now (the
  callers waiting, each with their number and wait; the agents logged in, free, busy, in
  wrap-up, paused) with the day's figures so far and the wallboard's alarms (web/wallboard.py).
  Any user of the company may read it (scope read); another company is 404. Without a
  switch: 503.
- `GET`/`PUT .../wallboard`: the description's `wallboard:` section (theme, queues shown,
  service level, thresholds), changed through the whole description with If-Match as the
  company settings are (company admins).
- `GET`/`POST .../wallboard/tokens`, `DELETE .../wallboard/tokens/{id}`: the tokens a TV
  shows the wallboard with (services/wallboard_tokens.py; company admins). The token is in
  the answer to its POST only, with the wallboard's address (`/wallboard#<token>`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field

from vaxel.services import configuration, wallboard_tokens
from vaxel.services.company_config import WallboardConfig
from vaxel.services.errors import NotFound
from vaxel.web.api.sections import etag_of
from vaxel.web.auth import Caller, Context, admin_of, audit_change, company_of
from vaxel.web.context import blocking
from vaxel.web.problems import Problem, RowId
from vaxel.web.wallboard import NoSwitch, figures

router = APIRouter(prefix="/api/v1/companies/{domain}", tags=["wallboard"])


@router.get("/statistics/queues/live")
async def queues_live(domain: str, who: Caller, ctx: Context) -> dict[str, Any]:
    """Each queue group now: who waits and how long, the agents' states, the day's
    figures so far (offered, answered, missed = abandoned + timed out, waits, service
    level) and the wallboard's alarms by its thresholds."""
    company = await blocking(company_of, ctx, who, domain)
    try:
        return await figures(ctx, company.id, company.domain, callers=True)
    except NoSwitch as exc:
        raise Problem(503, str(exc)) from None


# -- the settings ---------------------------------------------------------------------------


def _section(data: dict[str, Any]) -> dict[str, Any]:
    return dict(data.get("wallboard", {}))


@router.get("/wallboard")
def get_wallboard(domain: str, who: Caller, ctx: Context, response: Response) -> dict[str, Any]:
    """The description's wallboard section as described (defaults left out); its ETag goes
    back in If-Match."""
    company = admin_of(ctx, who, domain)
    data, _ = configuration.export_data(ctx.store, company.domain)
    section = _section(data)
    response.headers["ETag"] = etag_of(section)
    return section


@router.put("/wallboard")
def put_wallboard(
    domain: str,
    body: WallboardConfig,
    who: Caller,
    ctx: Context,
    request: Request,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Replace the wallboard section (If-Match: its ETag, or *)."""
    company = admin_of(ctx, who, domain)
    if if_match is None:
        raise Problem(428, "send If-Match with the wallboard's ETag, so no change is overwritten")
    sent = body.model_dump(mode="json", exclude_unset=True)
    before: dict[str, Any] = {}

    def change(data: dict[str, Any]) -> None:
        old = _section(data)
        if if_match.strip() != "*" and etag_of(old) not in if_match:
            raise Problem(412, "the wallboard changed since you read it: read it again")
        before.update(old)
        data["wallboard"] = sent

    _, after = configuration.change_config(
        ctx.store, company.domain, change, data=ctx.data,
        source_dir=ctx.uploads(company.domain), by_provider=who.role == "provider",
    )  # fmt: skip
    section = _section(after)
    audit_change(ctx, who, request, "wallboard.settings", company.domain, company_id=company.id,
                 before=before, after=section)  # fmt: skip
    response.headers["ETag"] = etag_of(section)
    return section


# -- the tokens -----------------------------------------------------------------------------


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description='e.g. "TV in the support room"')


class TokenOut(BaseModel):
    id: int
    name: str
    created_by: str
    created_at: datetime


class TokenMade(TokenOut):
    token: str = Field(description="shown this once; only its hash is kept")
    url: str = Field(description="the wallboard's address with the token (its fragment)")


def wallboard_url(request: Request, token: str) -> str:
    """The address a TV opens: the token in the fragment, which no browser sends."""
    return f"{str(request.base_url).rstrip('/')}/wallboard#{token}"


@router.get("/wallboard/tokens")
def list_tokens(domain: str, who: Caller, ctx: Context) -> list[TokenOut]:
    """The company's wallboard tokens (never the tokens themselves)."""
    company = admin_of(ctx, who, domain)
    return [TokenOut(**vars_of(t)) for t in wallboard_tokens.list_tokens(ctx.store, company.id)]


def vars_of(info: wallboard_tokens.TokenInfo) -> dict[str, Any]:
    return {"id": info.id, "name": info.name, "created_by": info.created_by,
            "created_at": info.created_at}  # fmt: skip


@router.post("/wallboard/tokens", status_code=201)
def make_token(
    domain: str, body: TokenIn, who: Caller, ctx: Context, request: Request
) -> TokenMade:
    """A new read-only token for a TV: it opens this company's wallboard, nothing else."""
    company = admin_of(ctx, who, domain)
    token, info = wallboard_tokens.create(
        ctx.store, company.id, body.name, who.account.login, ctx.now()
    )
    audit_change(ctx, who, request, "wallboard.token.create", info.name, company_id=company.id,
                 after={"id": info.id, "name": info.name})  # fmt: skip
    return TokenMade(**vars_of(info), token=token, url=wallboard_url(request, token))


@router.delete("/wallboard/tokens/{token_id}", status_code=204)
def revoke_token(
    domain: str, token_id: RowId, who: Caller, ctx: Context, request: Request
) -> Response:
    """Revoke a token: a wallboard showing with it stops at its next update."""
    company = admin_of(ctx, who, domain)
    try:
        info = wallboard_tokens.revoke(ctx.store, company.id, token_id)
    except NotFound:
        raise Problem(404, f"no wallboard token {token_id}") from None
    audit_change(ctx, who, request, "wallboard.token.revoke", info.name, company_id=company.id,
                 before={"id": info.id, "name": info.name})  # fmt: skip
    return Response(status_code=204)
