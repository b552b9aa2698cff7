"""A user's own settings from the web (U7, U8, U11): forwarding, forwarding by activity,
voicemail on or off, and the caller ID their calls show.

The same choices a phone makes with feature codes (*21, *67, *61, voicemail on/off), so
a user's choice wins over what the company description sets, as it does from the phone.
A forwarding goes to a colleague's extension or to an external number the company's
outbound policy allows (no forwarding to premium rate: toll fraud dials those).
Forwarding by activity (U11) names such a target per diversion status: while the user's
"Meeting" diversion is on, their calls go to the colleague they named for meetings.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from vaxel.bus import ForwardingChanged
from vaxel.services import activities, configuration, presence_settings
from vaxel.services.company_config import CompanyConfig
from vaxel.services.diversions import PRESETS
from vaxel.services.numbering import CallerIdChoice, NumberError, classify, is_external, to_e164
from vaxel.web.auth import Caller, Context, Principal, audit_change
from vaxel.web.context import WebContext
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/me", tags=["me"])

KINDS = ("always", "busy", "no_answer")


class Forwarding(BaseModel):
    always: str | None = Field(None, description="every call (an extension or a number)")
    busy: str | None = Field(None, description="when I am in a call")
    no_answer: str | None = Field(None, description="when I do not answer")


class Settings(BaseModel):
    forwarding: Forwarding
    activity_forwarding: dict[str, str] = Field(
        description="status (lunch, meeting, ...) -> where calls go while that diversion is on"
    )
    voicemail: bool
    caller_id: CallerIdChoice


def _mine(ctx: WebContext, who: Principal) -> tuple[int, str, CompanyConfig]:
    if who.account.company_id is None or who.account.extension is None:
        raise Problem(404, "a provider admin has no phone, so no settings of one")
    config = configuration.load_document(ctx.store, who.account.company_id)
    if config is None:
        raise Problem(404, "your company has no description yet")
    return who.account.company_id, who.account.extension, config


def settings_of(ctx: WebContext, company_id: int, ext: str, config: CompanyConfig) -> Settings:
    user = next((u for u in config.users if u.ext == ext), None)
    if user is None:
        raise Problem(404, f"no user {ext}")
    chosen = presence_settings.forwardings(ctx.store, company_id).get(ext, {})
    described = user.forwarding
    forwarding = {
        kind: (chosen[kind] or None) if kind in chosen else getattr(described, kind)
        for kind in KINDS
    }
    switches = presence_settings.voicemail_switches(ctx.store, company_id)
    return Settings(
        forwarding=Forwarding(**forwarding),
        activity_forwarding=activities.activity_forwardings(ctx.store, company_id, ext),
        voicemail=switches.get(ext, user.voicemail.enabled),
        caller_id=user.caller_id,
    )


@router.get("/settings")
def my_settings(who: Caller, ctx: Context) -> Settings:
    return mine(ctx, who)


def mine(ctx: WebContext, who: Principal) -> Settings:
    """`who`'s own settings (U7, U8, U11): what they chose, else what the description says."""
    company_id, ext, config = _mine(ctx, who)
    return settings_of(ctx, company_id, ext, config)


def target_error(config: CompanyConfig, ext: str, kind: str, target: str) -> str | None:
    """Why `ext` may not forward `kind` calls to `target` (None: they may). One check for
    the API and the user web's settings page (U11): a colleague, never oneself, or a
    number the company's outbound policy allows."""
    try:
        if not is_external(target):
            known = {user.ext for user in config.users}
            if target == ext:
                return f"{kind}: that is your own extension"
            return None if target in known else f'{kind}: unknown user "{target}"'
        number = to_e164(target)
    except NumberError as exc:
        return f"{kind}: {exc}"
    if classify(number) not in config.outbound.allowed:
        return f"{kind}: your company does not allow calls to {number}"
    return None


def change_forwarding(
    ctx: WebContext,
    who: Principal,
    request: Request,
    given: dict[str, str | None],
) -> Settings:
    """Set or clear (None) each kind of forwarding in `given` for `who` (U11), checked
    whole first: any error raises Problem 422 with every error and changes nothing."""
    company_id, ext, config = _mine(ctx, who)
    errors = [
        error
        for kind, target in given.items()
        if target is not None and (error := target_error(config, ext, kind, target))
    ]
    if errors:
        raise Problem(422, "the forwarding has errors; nothing changed", errors=errors)
    before = settings_of(ctx, company_id, ext, config).forwarding.model_dump()
    for kind, target in given.items():
        presence_settings.set_forwarding(ctx.store, company_id, ext, kind, target)
        ctx.publish(ForwardingChanged(company_id, ext, kind, target, time.time()))
    after = settings_of(ctx, company_id, ext, config)
    audit_change(ctx, who, request, "forwarding.set", ext, company_id=company_id,
                 before=before, after=after.forwarding.model_dump())  # fmt: skip
    return after


@router.put("/forwarding")
def set_forwarding(body: Forwarding, who: Caller, ctx: Context, request: Request) -> Settings:
    """Set or clear (null) each kind of forwarding that is in the body."""
    return change_forwarding(ctx, who, request, body.model_dump(exclude_unset=True))


def change_activity_forwarding(
    ctx: WebContext, who: Principal, request: Request, given: dict[str, str | None]
) -> Settings:
    """Set or clear (None) where `who`'s calls go while a diversion of each status in
    `given` is on (U11), checked whole first like `change_forwarding`."""
    company_id, ext, config = _mine(ctx, who)
    errors = [f"{status}: unknown status (use {', '.join(PRESETS)})"
              for status in given if status not in PRESETS]  # fmt: skip
    errors += [
        error
        for status, target in given.items()
        if status in PRESETS and target and (error := target_error(config, ext, status, target))
    ]
    if errors:
        raise Problem(422, "the forwarding has errors; nothing changed", errors=errors)
    before = activities.activity_forwardings(ctx.store, company_id, ext)
    for status, target in given.items():
        activities.set_activity_forwarding(ctx.store, company_id, ext, status, target)
    after = settings_of(ctx, company_id, ext, config)
    audit_change(ctx, who, request, "activity_forwarding.set", ext, company_id=company_id,
                 before=before, after=after.activity_forwarding)  # fmt: skip
    return after


@router.put("/activity-forwarding")
def set_activity_forwarding(
    body: dict[str, Annotated[str, Field(max_length=40)] | None],
    who: Caller,
    ctx: Context,
    request: Request,
) -> Settings:
    """Where my calls go while a diversion of a status is on: `{"meeting": "1003",
    "lunch": null}` (null or "" clears; the other statuses are left as they are)."""
    return change_activity_forwarding(ctx, who, request, body)


class Voicemail(BaseModel):
    enabled: bool


@router.put("/voicemail")
def set_voicemail(body: Voicemail, who: Caller, ctx: Context, request: Request) -> Settings:
    """Turn my voicemail box on or off."""
    return switch_voicemail(ctx, who, request, body.enabled)


def switch_voicemail(ctx: WebContext, who: Principal, request: Request, on: bool) -> Settings:
    """Turn `who`'s own box on or off (U7), as *98 does from the phone."""
    company_id, ext, config = _mine(ctx, who)
    presence_settings.set_voicemail(ctx.store, company_id, ext, on)
    audit_change(ctx, who, request, "voicemail.on" if on else "voicemail.off", ext,
                 company_id=company_id)  # fmt: skip
    return settings_of(ctx, company_id, ext, config)


@router.put("/caller-id")
def set_caller_id(
    body: Annotated[CallerIdChoice, Field(description="which number my calls show")],
    who: Caller,
    ctx: Context,
    request: Request,
) -> Settings:
    """Choose the number my calls show: main, direct, mobile or support (per device)."""
    return choose_caller_id(ctx, who, request, body)


def choose_caller_id(
    ctx: WebContext, who: Principal, request: Request, body: CallerIdChoice
) -> Settings:
    """`who`'s caller ID choice (U8), written into their entry of the description, so it
    meets `config apply`'s checks (a choice whose number is missing is a ConfigError)."""
    company_id, ext, _ = _mine(ctx, who)
    domain = who.account.domain or ""

    def change(data: dict[str, Any]) -> None:
        for user in data.get("users", []):
            if user["ext"] == ext:
                user["caller_id"] = body.model_dump(mode="json")

    configuration.change_config(
        ctx.store, domain, change, data=ctx.data, source_dir=ctx.uploads(domain),
        by_provider=False,
    )  # fmt: skip
    audit_change(ctx, who, request, "caller_id.set", ext, company_id=company_id,
                 after=body.model_dump(mode="json"))  # fmt: skip
    config = configuration.load_document(ctx.store, company_id)
    assert config is not None
    return settings_of(ctx, company_id, ext, config)
