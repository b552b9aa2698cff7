"""The named parts of a company's description as resources (P7, P8, S1, S3, S5, S6, S8, A3):
numbers, flows, menus, schedules, groups, voicemail boxes, prompts, conference rooms, and
(the provider's) trunks.

Each item is exactly what the description holds under its name, in the model `vaxel
config apply` uses, and a change is applied to the whole description with the same
checks and the same error paths (`menus.main.keys.1: unknown group "salj"`). An item's
ETag covers the item; a PUT that replaces one needs it in If-Match (428 without, 412 when
someone changed it since), a PUT of a new name creates it.

Secrets (a conference room's `pin` and `moderator_pin`) are write-only: the item read,
its ETag and the audit entry are the exported one, which has none (the audit says only
that one was set or removed). A PUT that leaves a secret out keeps the stored one, as
`vaxel config apply` does; `null` removes it.

(No `from __future__ import annotations` here: each route's body type is the section's
model, a variable, which FastAPI must see as a class when the route is made.)
"""

import hashlib
import json
import re
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request, Response
from pydantic import BaseModel, Field

from vaxel.services import configuration
from vaxel.services.company_config import (
    NAME,
    ConferenceConfig,
    FlowConfig,
    GroupConfig,
    MenuConfig,
    NumberConfig,
    Prompt,
    TrunkConfig,
    VoicemailBox,
)
from vaxel.services.schedules import Schedule
from vaxel.web.auth import Caller, Context, Principal, admin_of, audit_change, provider_only
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/companies/{domain}")


class ItemList(BaseModel):
    items: dict[str, Any] = Field(description="name -> the item, as the description has it")


def etag_of(item: Any) -> str:
    text = json.dumps(item, sort_keys=True, default=str)
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:20] + '"'


_OBJECT = {"application/json": {"schema": {"type": "object"}}}


def items_of(data: dict[str, Any], section: str) -> dict[str, Any]:
    if section == "numbers":
        return {n["number"]: n for n in data.get("numbers", [])}
    return dict(data.get(section, {}))


def store_items(data: dict[str, Any], section: str, items: dict[str, Any]) -> None:
    data[section] = list(items.values()) if section == "numbers" else items


def _section(section: str, model: type[BaseModel], *, provider: bool = False) -> None:
    """GET (list), GET, PUT and DELETE of one named part of the description."""
    tag: list[str | Enum] = [section]
    what = section.rstrip("s") if section != "voicemail" else "voicemail box"

    def may_change(who: Principal) -> None:
        if provider:
            provider_only(who)

    @router.get(f"/{section}", tags=tag, name=f"list {section}")
    def list_items(domain: str, who: Caller, ctx: Context) -> ItemList:
        company = admin_of(ctx, who, domain)
        data, _ = configuration.export_data(ctx.store, company.domain)
        return ItemList(items=items_of(data, section))

    @router.get(f"/{section}/{{name}}", tags=tag, name=f"get {what}")
    def get_item(
        domain: str, name: str, who: Caller, ctx: Context, response: Response
    ) -> dict[str, Any]:
        company = admin_of(ctx, who, domain)
        data, _ = configuration.export_data(ctx.store, company.domain)
        item = items_of(data, section).get(name)
        if item is None:
            raise Problem(404, f"no {what} {name!r}")
        response.headers["ETag"] = etag_of(item)
        return dict(item)

    @router.put(
        f"/{section}/{{name}}",
        tags=tag,
        name=f"put {what}",
        responses={201: {"description": f"the {what} was created", "content": _OBJECT}},
    )
    def put_item(
        domain: str,
        name: str,
        body: Annotated[model, Body()],  # type: ignore[valid-type]
        who: Caller,
        ctx: Context,
        request: Request,
        response: Response,
        if_match: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        """Create the item, or replace it (If-Match: its ETag)."""
        company = admin_of(ctx, who, domain)
        may_change(who)
        sent = body.model_dump(mode="json", exclude_unset=True)  # type: ignore[attr-defined]
        if section == "numbers":
            if sent.get("number") not in (None, name):
                raise Problem(422, "the number in the body is not the one in the path",
                              errors=[f"number: must be {name}"])  # fmt: skip
        elif not _named(name):
            raise Problem(422, f"bad name {name!r}: use a-z, 0-9, - and _ (max 40)")
        before: dict[str, Any] = {}

        def change(data: dict[str, Any]) -> None:
            items = items_of(data, section)
            old = items.get(name)
            if old is not None:
                if if_match is None:
                    raise Problem(428, f"send If-Match with the {what}'s ETag to replace it")
                if if_match.strip() != "*" and etag_of(old) not in if_match:
                    raise Problem(412, f"the {what} changed since you read it: read it again")
                before.update(old)
            items[name] = sent
            store_items(data, section, items)

        _, after = configuration.change_config(
            ctx.store, company.domain, change, data=ctx.data,
            source_dir=ctx.uploads(company.domain), by_provider=who.role == "provider",
        )  # fmt: skip
        item = items_of(after, section)[name]
        audit_change(ctx, who, request, f"{section}.put", name, company_id=company.id,
                     before=before or None, after={**item, **secrets_sent(sent)})  # fmt: skip
        response.headers["ETag"] = etag_of(item)
        if not before:
            response.status_code = 201
        return dict(item)

    @router.delete(
        f"/{section}/{{name}}", tags=tag, name=f"delete {what}", status_code=204,
    )  # fmt: skip
    def delete_item(domain: str, name: str, who: Caller, ctx: Context, request: Request) -> None:
        """Remove the item; a description that still refers to it refuses (422)."""
        company = admin_of(ctx, who, domain)
        may_change(who)
        removed: dict[str, Any] = {}

        def change(data: dict[str, Any]) -> None:
            items = items_of(data, section)
            if name not in items:
                raise Problem(404, f"no {what} {name!r}")
            removed.update(items.pop(name))
            store_items(data, section, items)

        configuration.change_config(
            ctx.store, company.domain, change, data=ctx.data,
            source_dir=ctx.uploads(company.domain), by_provider=who.role == "provider",
        )  # fmt: skip
        audit_change(ctx, who, request, f"{section}.delete", name, company_id=company.id,
                     before=removed)  # fmt: skip


#: The write-only fields of the sections' items (company_config.SECRETS).
_SECRET_FIELDS = ("pin", "moderator_pin")


def secrets_sent(sent: dict[str, Any]) -> dict[str, str]:
    """For the audit: which secrets a PUT set or removed, never their values."""
    return {
        field: "(removed)" if sent[field] is None else "(set)"
        for field in _SECRET_FIELDS
        if field in sent
    }


def _named(name: str) -> bool:
    return re.match(NAME, name) is not None


for _name, _model, _provider in (
    ("numbers", NumberConfig, False),
    ("flows", FlowConfig, False),
    ("menus", MenuConfig, False),
    ("schedules", Schedule, False),
    ("groups", GroupConfig, False),
    ("voicemail", VoicemailBox, False),
    ("prompts", Prompt, False),
    ("conferences", ConferenceConfig, False),
    ("trunks", TrunkConfig, True),
):
    _section(_name, _model, provider=_provider)
