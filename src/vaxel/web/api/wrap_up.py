"""An agent ends their own wrap-up early from the web (A5): `POST /api/v1/me/wrap-up/end`;
an admin ends anyone's: `POST /api/v1/companies/{domain}/agents/{ext}/wrap-up/end`.

After a call taken from an answering group the agent is in wrap-up for the queue's (or
their own) seconds, offered no group call (features/groups.py); this is the web's way to
say "ready now", as the feature code `wrap_up_end` (*48) is the phone's. The wrap-up lives
in the running switch, so the request is a question to it (web/link.py); without one the
answer is 503. Ending a wrap-up that is not running is no error: the answer is 204 too.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from vaxel.services import configuration
from vaxel.web.auth import Caller, Context, audit_change, company_of
from vaxel.web.context import blocking
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["me"])

NO_SWITCH = "wrap-up lives in a running switch (vaxel serve)"


@router.post("/me/wrap-up/end", status_code=204)
async def end_wrap_up(who: Caller, ctx: Context) -> Response:
    """End my wrap-up now: the groups I am logged in to offer me their calls again."""
    account = who.account
    if account.company_id is None or account.extension is None:
        raise Problem(404, "a provider admin has no phone, so no wrap-up")
    if ctx.end_wrap_up is None:
        raise Problem(503, NO_SWITCH)
    await ctx.end_wrap_up(account.company_id, account.extension)
    return Response(status_code=204)


@router.post("/companies/{domain}/agents/{ext}/wrap-up/end", status_code=204, tags=["agents"])
async def end_agents_wrap_up(
    domain: str, ext: str, who: Caller, ctx: Context, request: Request
) -> Response:
    """End an agent's wrap-up now (admins; a user only their own): the groups they are
    logged in to offer them their calls again. Audited."""
    company = await blocking(company_of, ctx, who, domain)
    if who.role == "user" and who.account.extension != ext:
        raise Problem(403, "you can end only your own wrap-up; ask an admin")
    config = await blocking(configuration.load_document, ctx.store, company.id)
    if config is None or ext not in {user.ext for user in config.users}:
        raise Problem(404, f"no user {ext}")
    if ctx.end_wrap_up is None:
        raise Problem(503, NO_SWITCH)
    await ctx.end_wrap_up(company.id, ext)
    await blocking(audit_change, ctx, who, request, "agent.wrap_up_end", ext,
                   company_id=company.id)  # fmt: skip
    return Response(status_code=204)
