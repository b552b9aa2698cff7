"""An agent ends their own wrap-up early from the web (A5): `POST /api/v1/me/wrap-up/end`.

After a call taken from an answering group the agent is in wrap-up for the queue's (or
their own) seconds, offered no group call (features/groups.py); this is the web's way to
say "ready now", as the feature code `wrap_up_end` (*48) is the phone's. The wrap-up lives
in the running switch, so the request is a question to it (web/link.py); without one the
answer is 503. Ending a wrap-up that is not running is no error: the answer is 204 too.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from vaxel.web.auth import Caller, Context
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/me", tags=["me"])

NO_SWITCH = "wrap-up lives in a running switch (vaxel serve)"


@router.post("/wrap-up/end", status_code=204)
async def end_wrap_up(who: Caller, ctx: Context) -> Response:
    """End my wrap-up now: the groups I am logged in to offer me their calls again."""
    account = who.account
    if account.company_id is None or account.extension is None:
        raise Problem(404, "a provider admin has no phone, so no wrap-up")
    if ctx.end_wrap_up is None:
        raise Problem(503, NO_SWITCH)
    await ctx.end_wrap_up(account.company_id, account.extension)
    return Response(status_code=204)
