"""The company's own settings as a resource (S7, P8): the description's `company` section.

`GET /api/v1/companies/{domain}/settings` is the section exactly as `vaxel config export`
prints it (name, timezone, language, support number, operator, voicemail retention),
with its ETag; `PUT` replaces it through the whole description, so it meets the same
checks with the same error paths (`company.operator: unknown group "x"`). The domain is
what the company is: a body naming another is refused. If-Match is needed (428 without,
412 when someone changed the section since it was read), as for the named parts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response

from vaxel.services import configuration
from vaxel.services.company_config import CompanySection
from vaxel.web.api.sections import etag_of
from vaxel.web.auth import Caller, Context, admin_of, audit_change
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/companies/{domain}", tags=["companies"])


def settings_of(data: dict[str, Any]) -> dict[str, Any]:
    """The `company` section as exported (only what was chosen: defaults are left out)."""
    return dict(data.get("company", {}))


@router.get("/settings")
def get_settings(domain: str, who: Caller, ctx: Context, response: Response) -> dict[str, Any]:
    """The company section of the description; its ETag goes back in If-Match."""
    company = admin_of(ctx, who, domain)
    data, _ = configuration.export_data(ctx.store, company.domain)
    section = settings_of(data)
    response.headers["ETag"] = etag_of(section)
    return section


@router.put("/settings")
def put_settings(
    domain: str,
    body: CompanySection,
    who: Caller,
    ctx: Context,
    request: Request,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Replace the company section (If-Match: its ETag). The domain cannot change."""
    company = admin_of(ctx, who, domain)
    if body.domain != company.domain:
        raise Problem(422, "the domain is the company's and cannot change here",
                      errors=[f"company.domain: must be {company.domain}"])  # fmt: skip
    if if_match is None:
        raise Problem(428, "send If-Match with the settings' ETag, so no change is overwritten")
    sent = body.model_dump(mode="json", exclude_unset=True, by_alias=True)
    sent["domain"] = company.domain
    before: dict[str, Any] = {}

    def change(data: dict[str, Any]) -> None:
        old = settings_of(data)
        if if_match.strip() != "*" and etag_of(old) not in if_match:
            raise Problem(412, "the settings changed since you read them: read them again")
        before.update(old)
        data["company"] = sent

    _, after = configuration.change_config(
        ctx.store, company.domain, change, data=ctx.data,
        source_dir=ctx.uploads(company.domain), by_provider=who.role == "provider",
    )  # fmt: skip
    section = settings_of(after)
    audit_change(ctx, who, request, "company.settings", company.domain, company_id=company.id,
                 before=before, after=section)  # fmt: skip
    response.headers["ETag"] = etag_of(section)
    return section
