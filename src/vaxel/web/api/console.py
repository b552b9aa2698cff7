"""The operator console's API (A16): `/api/v1/console/...`, for the receptionist's page.

Who may: the company's admins, and the users its description names as operators
(`console: {operators: ["1001"]}`); anyone else gets 403, and a provider admin 404 (no
company's calls are theirs here). Acting on calls needs the operator's own phone, so an
account without an extension only looks.

- `GET /console`: the console's settings: the operator, the keyboard shortcuts (the
  description's over the defaults), the park extension and its orbits.
- `GET /console/calls`: the company's calls for the console, from the switch
  (features/console.py): queued, ringing, parked, and the operator's own.
- `GET /console/colleagues`: everyone to search over, fetched once by the page and kept
  live by the events: extension, name, line (talking while in a call, from the switch),
  diversion with its end, e-mail and mobile when known. Calendar bookings do not exist:
  `calendar` is always null.
- `POST /console/calls/{id}/answer`: the operator's phones ring for that call; the first
  to answer takes it (any queued or ringing call, not only the first).
- `POST /console/calls/{id}/transfer` `{"to": ...}`: unannounced (blind) transfer, as
  `POST /calls/{id}/transfer` with the operator as the transferor.
- `POST /console/calls/{id}/park`: a blind transfer to the park extension.
- `POST /console/calls/{id}/consult` `{"to": ...}`, `.../complete`, `.../back`: the
  announced transfer (ask first, then hand over, or go back to the caller).
- `POST /console/orbits/{orbit}/retrieve`: the operator's phone rings and takes the call
  parked there (click-to-call to the orbit).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from vaxel.features.transfer import TransferError
from vaxel.services import configuration, diversions
from vaxel.services.company_config import CompanyConfig
from vaxel.web.api.calls_placed import NO_SWITCH, place
from vaxel.web.auth import Caller, Context, Principal, audit_change
from vaxel.web.context import WebContext, blocking
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/console", tags=["console"])

CallId = Annotated[str, PathParam(min_length=1, max_length=64)]
Orbit = Annotated[str, PathParam(pattern=r"^[0-9]{2,8}$")]
# SIP statuses of a transfer's refusal, as HTTP (web/api/calls_transfer.py).
_STATUS = {404: 404, 403: 403, 409: 409, 422: 422, 484: 422, 480: 409, 400: 422, 503: 503}


class Target(BaseModel):
    to: Annotated[str, Field(min_length=1, max_length=32)] = Field(
        description="a colleague's extension or a number, as the operator would dial it"
    )


class ConsoleSettings(BaseModel):
    operator: str | None = Field(description="the operator's extension (none: look only)")
    shortcuts: dict[str, str] = Field(description="action -> key, as KeyboardEvent names it")
    park: str | None = Field(description="the park extension (none: no park)")
    orbits: list[str]


class ConsoleCallOut(BaseModel):
    call_id: str
    state: str = Field(description="queued, callback, ringing, parked, talking or consulting")
    caller: str
    caller_name: str
    waited: float = Field(description="seconds: in line, ringing, parked, or in the call")
    where: str = Field(description="the queue, the extensions rung, the orbit, or whom")
    answerable: bool


class ConsoleCalls(BaseModel):
    items: list[ConsoleCallOut]


class Colleague(BaseModel):
    ext: str
    name: str
    line: str = Field(description="talking (in a call now) or idle; the events say more")
    diversion: dict[str, Any] | None = Field(description="status, text and until (or null)")
    email: str | None
    mobile: str | None
    calendar: None = Field(None, description="calendar bookings do not exist: always null")


class Colleagues(BaseModel):
    items: list[Colleague]


class Done(BaseModel):
    call_id: str
    detail: dict[str, Any] = {}


def _config(ctx: WebContext, company_id: int) -> CompanyConfig:
    config = configuration.load_document(ctx.store, company_id)
    if config is None:
        raise Problem(404, "no such company")
    return config


def _operator(ctx: WebContext, who: Principal) -> tuple[int, str | None, CompanyConfig]:
    """The company and the operator's extension, if `who` may use the console."""
    account = who.account
    if account.company_id is None:
        raise Problem(404, "no console here: a provider admin has no company's calls")
    config = _config(ctx, account.company_id)
    if who.role != "admin" and account.extension not in config.console.operators:
        raise Problem(403, "only the company's admins and its operators use the console")
    return account.company_id, account.extension, config


def _acting(ctx: WebContext, who: Principal) -> tuple[int, str]:
    company_id, extension, _ = _operator(ctx, who)
    if extension is None:
        raise Problem(409, "an account without a phone of its own only looks")
    return company_id, extension


async def _ask(ctx: WebContext, company_id: int, operator: str, action: str, call_id: str,
               to: str = "") -> Any:  # fmt: skip
    if ctx.console is None:
        raise Problem(503, NO_SWITCH)
    outcome, value = await ctx.console(company_id, operator, action, call_id, to)
    if outcome != "ok":
        refusal: tuple[int, str] = value  # type: ignore[assignment]
        raise Problem(int(refusal[0]), str(refusal[1]))
    return value


@router.get("")
def settings(who: Caller, ctx: Context) -> ConsoleSettings:
    """The console's settings for me: my extension, the keys, the park orbits."""
    _, extension, config = _operator(ctx, who)
    park = config.park
    return ConsoleSettings(
        operator=extension, shortcuts=config.console.keys(),
        park=park.extension if park is not None else None,
        orbits=park.orbit_numbers() if park is not None else [],
    )  # fmt: skip


@router.get("/calls")
async def calls(who: Caller, ctx: Context) -> ConsoleCalls:
    """The company's queued, ringing and parked calls, and mine."""
    company_id, extension, _ = await blocking(_operator, ctx, who)
    found = await _ask(ctx, company_id, extension or "", "calls", "")
    return ConsoleCalls(items=[ConsoleCallOut(**asdict(call)) for call in found])


def _colleagues(ctx: WebContext, who: Principal) -> tuple[int, CompanyConfig, dict[str, Any]]:
    company_id, _, config = _operator(ctx, who)
    return company_id, config, diversions.active_diversions(ctx.store, company_id, ctx.now())


@router.get("/colleagues")
async def colleagues(who: Caller, ctx: Context) -> Colleagues:
    """Everyone of the company, for the console's search."""
    company_id, config, diverted = await blocking(_colleagues, ctx, who)
    busy: set[str] = set()
    if ctx.console is not None:
        busy = set(await _ask(ctx, company_id, "", "busy", ""))
    items = []
    for user in sorted(config.users, key=lambda u: u.ext):
        info = diverted.get(user.ext)
        diversion = None
        if info is not None:
            until = info.until.isoformat() if info.until is not None else None
            diversion = {"status": info.status, "text": info.text, "until": until}
        items.append(Colleague(
            ext=user.ext, name=user.name, line="talking" if user.ext in busy else "idle",
            diversion=diversion, email=user.voicemail.email, mobile=user.mobile,
        ))  # fmt: skip
    return Colleagues(items=items)


@router.post("/calls/{call_id}/answer", status_code=202)
async def answer(call_id: CallId, who: Caller, ctx: Context, request: Request) -> Done:
    """Ring my phones for this call; the first to answer takes it."""
    who.need("calls")
    company_id, extension = await blocking(_acting, ctx, who)
    detail = await _ask(ctx, company_id, extension, "answer", call_id)
    await blocking(audit_change, ctx, who, request, "console.answer", call_id,
                   company_id=company_id)  # fmt: skip
    return Done(call_id=call_id, detail=detail)


async def _transfer(ctx: WebContext, who: Principal, request: Request, call_id: str,
                    to: str) -> Done:  # fmt: skip
    company_id, extension = await blocking(_acting, ctx, who)
    if ctx.transfer is None:
        raise Problem(503, NO_SWITCH)
    try:
        _, transferred, dialled = await ctx.transfer(
            company_id, call_id, extension, extension, False, to.strip()
        )
    except TransferError as exc:
        raise Problem(_STATUS.get(exc.status, 422), str(exc)) from None
    after = {"call_id": call_id, "party": extension}
    await blocking(audit_change, ctx, who, request, "call.transfer", dialled,
                   company_id=company_id, after=after)  # fmt: skip
    return Done(call_id=call_id, detail={"transferred": transferred, "to": dialled})


@router.post("/calls/{call_id}/transfer", status_code=202)
async def transfer(
    call_id: CallId, body: Target, who: Caller, ctx: Context, request: Request
) -> Done:
    """Unannounced transfer of my call's other party to `to`."""
    who.need("calls")
    return await _transfer(ctx, who, request, call_id, body.to)


@router.post("/calls/{call_id}/park", status_code=202)
async def park(call_id: CallId, who: Caller, ctx: Context, request: Request) -> Done:
    """Park my call's other party in the first free orbit (the caller hears music)."""
    who.need("calls")
    config = await blocking(lambda: _operator(ctx, who)[2])
    if config.park is None:
        raise Problem(409, "the company has no call park")
    return await _transfer(ctx, who, request, call_id, config.park.extension)


@router.post("/calls/{call_id}/consult", status_code=202)
async def consult(
    call_id: CallId, body: Target, who: Caller, ctx: Context, request: Request
) -> Done:
    """Announced transfer: ring `to` from my call while the caller waits with music."""
    who.need("calls")
    company_id, extension = await blocking(_acting, ctx, who)
    detail = await _ask(ctx, company_id, extension, "consult", call_id, body.to.strip())
    return Done(call_id=call_id, detail=detail)


@router.post("/calls/{call_id}/complete")
async def complete(call_id: CallId, who: Caller, ctx: Context, request: Request) -> Done:
    """Hand the caller over to the colleague I consulted; my leg ends."""
    who.need("calls")
    company_id, extension = await blocking(_acting, ctx, who)
    await _ask(ctx, company_id, extension, "complete", call_id)
    after = {"call_id": call_id, "party": extension}
    await blocking(audit_change, ctx, who, request, "call.transfer", call_id,
                   company_id=company_id, after=after)  # fmt: skip
    return Done(call_id=call_id)


@router.post("/calls/{call_id}/back")
async def back(call_id: CallId, who: Caller, ctx: Context) -> Done:
    """End the consultation: back to the caller."""
    who.need("calls")
    company_id, extension = await blocking(_acting, ctx, who)
    await _ask(ctx, company_id, extension, "back", call_id)
    return Done(call_id=call_id)


@router.post("/orbits/{orbit}/retrieve", status_code=202)
async def retrieve(orbit: Orbit, who: Caller, ctx: Context, request: Request) -> Done:
    """Ring my phones; when one answers, it takes the call parked on `orbit`."""
    who.need("calls")
    config = await blocking(lambda: _operator(ctx, who)[2])
    if config.park is None or orbit not in config.park.orbit_numbers():
        raise Problem(404, "no such orbit")
    call_id, _ = await place(ctx, who, request, orbit)
    return Done(call_id=call_id, detail={"orbit": orbit})
