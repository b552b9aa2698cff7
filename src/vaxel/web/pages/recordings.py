"""Recorded calls on the company admin's pages (S7, A6): newest first, each with a
player. The player fetches the WAV from the API (`/api/v1/companies/{domain}/
recordings/{id}`), which audits every listen. The provider's administrators do not hear
companies' calls: the page is 403 to them, as the API is.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from vaxel.services import recordings
from vaxel.web.pages.base import Context, PageRoute, Seen, company_page, link_for, render
from vaxel.web.problems import Problem

router = APIRouter(prefix="/admin", route_class=PageRoute, include_in_schema=False)

PAGE = 25


@router.get("/recordings")
def recorded_calls(
    request: Request,
    ctx: Context,
    v: Seen,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    if v.role == "provider":
        raise Problem(403, "only the company's own administrators hear its calls")
    info = company_page(ctx, v, None)
    found = recordings.search(ctx.store, info.id, limit=PAGE, before_id=before)
    older = None
    if len(found) == PAGE:
        older = link_for(v, "/admin/recordings", info, before=found[-1].id)
    audio = f"/api/v1/companies/{info.domain}/recordings/"
    return render(request, "admin/recordings.html", v, company=info, nav="recordings",
                  recordings=found, audio=audio, older=older)  # fmt: skip
