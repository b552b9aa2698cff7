"""Companies and their whole description (P1, P7, P8).

`GET /api/v1/companies/{domain}/config` returns the description exactly as
`vaxel config export` prints it (JSON, or YAML when asked with `Accept:
application/yaml`); `PUT` takes what `vaxel config apply` takes, as JSON or YAML by
Content-Type: one model, two doors. The ETag is the stored version; a PUT must send it
back in If-Match, so of two admins editing at once the second gets 412, never a silent
overwrite. A bad description gets 422 with every error and its path.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from vaxel.services import companies, configuration, number_ranges
from vaxel.services.company_config import CompanyConfig, ConfigError, parse_config
from vaxel.web.auth import (
    Caller,
    Context,
    Principal,
    admin_of,
    audit_change,
    company_of,
    provider_only,
)
from vaxel.web.context import WebContext, blocking
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/companies", tags=["companies"])

MAX_DESCRIPTION = 2 * 1024 * 1024  # bytes of one PUT
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


class CompanyOut(BaseModel):
    domain: str
    name: str
    created_at: datetime


class CompanyList(BaseModel):
    items: list[CompanyOut]
    next_after: str | None = Field(
        None, description="pass as `after` for the next page; null on the last page"
    )


class NewCompany(BaseModel):
    domain: Annotated[str, Field(min_length=1, max_length=253)]
    name: Annotated[str, Field(min_length=1, max_length=200)]


def _out(info: companies.CompanyInfo) -> CompanyOut:
    return CompanyOut(domain=info.domain, name=info.name, created_at=info.created_at)


@router.get("")
def list_companies(
    who: Caller,
    ctx: Context,
    q: Annotated[str, Query(max_length=100, description="part of the domain or name")] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[str | None, Query(max_length=253)] = None,
) -> CompanyList:
    """The companies the caller may see: every one for a provider admin, else their own."""
    if who.role == "provider":
        found = companies.page_companies(ctx.store, limit=limit, after=after, q=q)
    else:
        own = company_of(ctx, who, who.account.domain or "")
        text = q.strip().lower()
        matches = not text or text in own.domain or text in own.name.lower()
        found = [own] if matches and (after is None or own.domain > after) else []
    items = [_out(c) for c in found]
    return CompanyList(items=items, next_after=items[-1].domain if len(items) == limit else None)


@router.post("", status_code=201)
def add_company(body: NewCompany, who: Caller, request: Request, ctx: Context) -> CompanyOut:
    """A new company (provider admins only)."""
    provider_only(who)
    info = companies.add_company(ctx.store, body.domain, body.name)
    audit_change(ctx, who, request, "company.create", info.domain, company_id=None,
                 after={"domain": info.domain, "name": info.name})  # fmt: skip
    return _out(info)


@router.get("/{domain}")
def get_company(domain: str, who: Caller, ctx: Context) -> CompanyOut:
    return _out(company_of(ctx, who, domain))


def _etag(version: int) -> str:
    return f'"{version}"'


def _wanted_version(if_match: str | None, current: int) -> int:
    """The version an If-Match names: 428 without one, 412 when it is not the current."""
    if if_match is None:
        raise Problem(
            428,
            "send If-Match with the ETag of the description you changed (or * to replace"
            " whatever is stored), so that no one else's change is overwritten unseen",
        )
    tags = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" in tags or _etag(current) in tags:
        return current
    raise Problem(
        412,
        f"the description changed since you read it (now version {current}): read it again"
        " and redo your change",
        headers={"ETag": _etag(current)},
    )


_CONFIG_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
        "description": "the description, as `vaxel config export` prints it",
    },
}


@router.get("/{domain}/config", responses=_CONFIG_RESPONSES, response_class=Response)
def get_config(domain: str, who: Caller, ctx: Context, request: Request) -> Response:
    """The whole description, without secrets; its ETag goes back in If-Match."""
    company = admin_of(ctx, who, domain)
    data, version = configuration.export_data(ctx.store, company.domain)
    headers = {"ETag": _etag(version), "Cache-Control": "no-store"}
    if any(kind in request.headers.get("accept", "") for kind in YAML_TYPES):
        text = configuration.EXPORT_HEADER + yaml.safe_dump(
            data, sort_keys=False, allow_unicode=True
        )
        return Response(text, media_type="application/yaml", headers=headers)
    return Response(
        json.dumps(data, ensure_ascii=False), media_type="application/json", headers=headers
    )


_PUT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


async def _body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_DESCRIPTION:
            raise Problem(413, f"a description is at most {MAX_DESCRIPTION // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes, content_type: str) -> Any:
    kind = content_type.split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "the body is not UTF-8 text") from None
    if kind == "application/json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise Problem(400, f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if kind in YAML_TYPES:
        return configuration.load_yaml(text)  # ConfigError: 422 with where
    raise Problem(415, "send the description as application/json or application/yaml")


@router.put(
    "/{domain}/config",
    openapi_extra=_PUT_BODY,
    response_class=Response,
    responses=_CONFIG_RESPONSES,
)
async def put_config(domain: str, who: Caller, ctx: Context, request: Request) -> Response:
    """Replace the whole description, as `vaxel config apply` does; If-Match required."""
    raw = await _body(request)
    return await blocking(_apply, ctx, who, request, domain, raw)


def check_description(
    config: CompanyConfig, company: companies.CompanyInfo, who: Principal
) -> None:
    """What a description sent from the web may not do besides what `apply_config` checks
    (ConfigError): describe another company, or leave out the admin sending it."""
    if config.company.domain != company.domain:
        raise ConfigError(
            [f'company.domain: "{config.company.domain}" is not this company'
             f' ("{company.domain}"); a description changes only its own company']
        )  # fmt: skip
    own = who.account.extension
    mine = own is not None and who.account.company_id == company.id
    if mine and own not in {user.ext for user in config.users}:
        raise ConfigError([f"users: you ({own}) cannot remove yourself; ask another admin"])


def _apply(ctx: WebContext, who: Principal, request: Request, domain: str, raw: bytes) -> Response:
    company = admin_of(ctx, who, domain)
    parsed = _parse(raw, request.headers.get("content-type", ""))
    config = parsed if isinstance(parsed, CompanyConfig) else parse_config(parsed)
    check_description(config, company, who)
    before, version = configuration.export_data(ctx.store, company.domain)
    expected = _wanted_version(request.headers.get("if-match"), version) if version else None
    configuration.apply_config(
        ctx.store,
        config,
        data=ctx.data,
        source_dir=ctx.uploads(company.domain),
        expected_version=expected if expected is not None else 0,
        by_provider=who.role == "provider",
    )
    after, new_version = configuration.export_data(ctx.store, company.domain)
    audit_change(ctx, who, request, "config.replace", company.domain,
                 company_id=company.id, before=before, after=after)  # fmt: skip
    return Response(
        json.dumps(after, ensure_ascii=False),
        media_type="application/json",
        headers={"ETag": _etag(new_version)},
    )


class NumberRangeIn(BaseModel):
    first: Annotated[str, Field(max_length=32, description="first number (E.164 or national)")]
    last: Annotated[str, Field(max_length=32, description="last number, of the same length")]


class NumberRanges(BaseModel):
    items: list[NumberRangeIn]


@router.get("/{domain}/number-ranges")
def get_number_ranges(domain: str, who: Caller, ctx: Context) -> NumberRanges:
    """The numbers the provider gave the company: its admin may use any of them."""
    company = admin_of(ctx, who, domain)
    found = number_ranges.ranges_of(ctx.store, company.id)
    return NumberRanges(items=[NumberRangeIn(first=r.first, last=r.last) for r in found])


@router.put("/{domain}/number-ranges")
def put_number_ranges(
    domain: str, body: NumberRanges, who: Caller, ctx: Context, request: Request
) -> NumberRanges:
    """Give the company these ranges, replacing its old ones (provider admins only)."""
    company = admin_of(ctx, who, domain)
    provider_only(who)
    before = number_ranges.ranges_of(ctx.store, company.id)
    wanted = [number_ranges.parse_range(r.first, r.last) for r in body.items]
    stored = number_ranges.set_ranges(ctx.store, company.id, wanted)
    out = [NumberRangeIn(first=r.first, last=r.last) for r in stored]
    audit_change(ctx, who, request, "number_ranges.set", company.domain, company_id=company.id,
                 before=[f"{r.first}-{r.last}" for r in before],
                 after=[f"{r.first}-{r.last}" for r in stored])  # fmt: skip
    return NumberRanges(items=out)
