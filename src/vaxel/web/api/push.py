"""Web Push subscriptions of the user's browsers through the API (U1, U3).

The softphone asks for the switch's VAPID public key, subscribes with the browser's push
service, and gives the subscription here; it is then woken for incoming and missed calls
and new voicemail (`web/push.py`). Only endpoints at known push services are taken
(`services/web_push.py`): anything else is a 422 and is never contacted.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vaxel.services import web_push
from vaxel.services.errors import Invalid, NotFound
from vaxel.web.auth import Caller, Context, Principal
from vaxel.web.problems import Problem
from vaxel.web.push import Dispatcher

router = APIRouter(prefix="/api/v1/me/push", tags=["push"])


class Keys(BaseModel):
    p256dh: str = Field(max_length=200, description="the browser's P-256 key, base64url")
    auth: str = Field(max_length=100, description="its authentication secret, base64url")


class SubscriptionIn(BaseModel):
    """What the browser's `PushSubscription.toJSON()` gives."""

    endpoint: str = Field(max_length=web_push.MAX_ENDPOINT)
    keys: Keys


class EndpointIn(BaseModel):
    endpoint: str = Field(max_length=web_push.MAX_ENDPOINT)


class PushOut(BaseModel):
    public_key: str = Field(description="the switch's VAPID key: the applicationServerKey")
    subscriptions: int = Field(description="how many of my browsers are subscribed")


def _mine(who: Principal) -> tuple[int, str]:
    account = who.account
    if account.company_id is None or account.extension is None:
        raise Problem(404, "only a user with a phone gets notifications")
    return account.company_id, account.extension


@router.get("")
def push_settings(who: Caller, ctx: Context) -> PushOut:
    company_id, ext = _mine(who)
    return PushOut(
        public_key=web_push.vapid(ctx.data).public_key,
        subscriptions=web_push.count(ctx.store, company_id, ext),
    )


@router.post("/subscriptions", status_code=204)
async def subscribe(body: SubscriptionIn, request: Request, who: Caller, ctx: Context) -> None:
    """Wake this browser for my calls and voicemail (the same endpoint again: new keys)."""
    company_id, ext = _mine(who)
    try:
        await run_in_threadpool(
            web_push.subscribe, ctx.store, company_id, ext, body.endpoint,
            body.keys.p256dh, body.keys.auth,
        )  # fmt: skip
    except Invalid as refused:
        raise Problem(422, str(refused), errors=[str(refused)]) from None
    dispatcher: Dispatcher | None = getattr(request.app.state, "push", None)
    if dispatcher is not None:  # the running switch's events for this company from now on
        dispatcher.watch(company_id)


@router.post("/subscriptions/remove", status_code=204)
def unsubscribe(body: EndpointIn, who: Caller, ctx: Context) -> None:
    """Stop waking this browser (it unsubscribed, or the user turned notifications off)."""
    company_id, ext = _mine(who)
    try:
        web_push.unsubscribe(ctx.store, company_id, ext, body.endpoint)
    except NotFound:
        raise Problem(404, "no such subscription of yours") from None
