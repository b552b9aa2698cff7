"""The routes of a named part of the description edited from its pages (S7: S1 call flows,
S3 menus), made once, as `web/api/sections.py` makes the API's.

A section declares what differs: its templates, how an item reads into form values and
how form values build the item, the fields its errors may name, and what else its list
and form show. `add_section` then gives it the same five routes: the list, the empty
form of a new item, an item's form, the save (a new item or a change, through
`parts.save_item`, so the errors are `config apply`'s, next to the field) and the remove.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from vaxel.services.companies import CompanyInfo
from vaxel.services.company_config import NAME
from vaxel.web.api.sections import etag_of
from vaxel.web.context import WebContext, blocking
from vaxel.web.pages import parts
from vaxel.web.pages.admin import Company
from vaxel.web.pages.base import (
    Context,
    Seen,
    Viewer,
    check_csrf,
    company_page,
    field,
    link_for,
    redirect,
    render,
)
from vaxel.web.pages.i18n import text
from vaxel.web.problems import Problem

# A list page with the lines of a refused remove: (request, ctx, v, company, general).
ListPage = Callable[[Request, WebContext, Viewer, "str | None", list[str]], Response]


def done_text(v: Viewer, done: str) -> str:
    """The status line after a redirect (`?done=saved`); nothing for anything else."""
    known = ("saved", "created", "removed", "booked", "cancelled")
    return text(v.lang, f"part.{done}") if done in known else ""


async def posted(request: Request, v: Viewer) -> FormData:
    """A page's posted form, its CSRF token checked."""
    form = await request.form()
    check_csrf(request, v, form)
    return form


def remove_item(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    company: str | None,
    form: FormData,
    section: str,
    page: ListPage,
) -> Response:
    """Remove an item; a description that still needs it refuses, and the list says why."""
    info = company_page(ctx, v, company)
    outcome = parts.save_item(request, ctx, v, info, section, field(form, "name"),
                              lambda old: None, tag=field(form, "tag"), fields=())  # fmt: skip
    if not outcome.ok:
        return page(request, ctx, v, company, outcome.general)
    return redirect(link_for(v, f"/admin/{section}", info, done="removed"))


@dataclass(frozen=True, slots=True)
class Section:
    """What one section's pages declare (see the module's docstring)."""

    section: str  # the description's key, and the pages' path: /admin/{section}
    list_template: str
    form_template: str
    fields: tuple[str, ...]  # the form fields its error lines are put next to
    # Form values of an item (None: a new one) by its name.
    values: Callable[[str, dict[str, Any] | None], dict[str, str]]
    # The item from the form's values and the item as it was (None: a new one).
    build: Callable[[dict[str, str], dict[str, Any] | None], dict[str, Any]]
    # What else the list shows (its items, their tags ...) and what the form offers.
    listing: Callable[[WebContext, CompanyInfo], dict[str, Any]]
    choices: Callable[[WebContext, CompanyInfo], dict[str, Any]]


def list_page(
    spec: Section,
    request: Request,
    ctx: WebContext,
    v: Viewer,
    company: str | None,
    *,
    done: str = "",
    general: list[str] | None = None,
    status: int = 200,
) -> Response:
    info = company_page(ctx, v, company)
    return render(request, spec.list_template, v, status=status, company=info,
                  nav=spec.section, done=done_text(v, done), general=general or [],
                  remove=link_for(v, f"/admin/{spec.section}/remove", info),
                  **spec.listing(ctx, info))  # fmt: skip


def form_page(
    spec: Section,
    request: Request,
    ctx: WebContext,
    v: Viewer,
    company: str | None,
    *,
    new: bool,
    values: dict[str, str],
    errors: dict[str, list[str]] | None = None,
    general: list[str] | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    info = company_page(ctx, v, company)
    path = f"/admin/{spec.section}/" + ("new" if new else values["name"])
    return render(request, spec.form_template, v, status=status, company=info,
                  nav=spec.section, new=new, values=values, errors=errors or {},
                  general=general or [], done=done_text(v, done),
                  action=link_for(v, path, info), **spec.choices(ctx, info))  # fmt: skip


def save(
    spec: Section,
    request: Request,
    ctx: WebContext,
    v: Viewer,
    company: str | None,
    name: str,
    form: FormData,
) -> Response:
    """A new item (posted to .../new, its name in the form) or a change of one; what the
    form leaves out keeps the value of a new item's form."""
    info = company_page(ctx, v, company)
    new = name == "new"
    name = field(form, "name") if new else name
    values = {**spec.values(name, None), **{k: field(form, k) for k in form if k != "csrf"}}
    values["name"] = name

    def refuse(errors: dict[str, list[str]], general: list[str]) -> Response:
        return form_page(spec, request, ctx, v, company, new=new, values=values, errors=errors,
                         general=general, status=422)  # fmt: skip

    if new and not re.match(NAME, name):
        return refuse({"name": [f"{spec.section}.{name}: {text(v.lang, 'part.bad_name')}"]},
                      [text(v.lang, "part.errors")])  # fmt: skip
    outcome = parts.save_item(request, ctx, v, info, spec.section, name,
                              lambda old: spec.build(values, old), tag=values.get("tag", ""),
                              fields=spec.fields, new=new)  # fmt: skip
    if not outcome.ok:
        return refuse(outcome.errors, outcome.general)
    done = "created" if new else "saved"
    return redirect(link_for(v, f"/admin/{spec.section}/{name}", info, done=done))


def add_section(router: APIRouter, spec: Section) -> None:
    """The section's routes on `router` (prefix /admin): list, new, item, remove, save."""
    base = f"/{spec.section}"

    def refused(
        request: Request, ctx: WebContext, v: Viewer, company: str | None, general: list[str]
    ) -> Response:
        return list_page(spec, request, ctx, v, company, general=general, status=422)

    @router.get(base, name=f"{spec.section}")
    def listed(
        request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
    ) -> Response:
        return list_page(spec, request, ctx, v, company, done=done)

    @router.get(f"{base}/new", name=f"new in {spec.section}")
    def new_item(
        request: Request, ctx: Context, v: Seen, company: Company = None, name: str = ""
    ) -> Response:
        values = spec.values(name[:40], None)
        return form_page(spec, request, ctx, v, company, new=True, values=values)

    @router.get(f"{base}/{{name}}", name=f"one of {spec.section}")
    def item_page(
        name: str, request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
    ) -> Response:
        info = company_page(ctx, v, company)
        found = parts.items(ctx, info, spec.section)
        if name not in found:
            raise Problem(404, "")
        values = {**spec.values(name, found[name]), "tag": etag_of(found[name])}
        return form_page(spec, request, ctx, v, company, new=False, values=values, done=done)

    @router.post(f"{base}/remove", name=f"remove from {spec.section}")
    async def remove(request: Request, ctx: Context, v: Seen, company: Company = None) -> Response:
        form = await posted(request, v)
        return await blocking(remove_item, request, ctx, v, company, form, spec.section, refused)

    @router.post(f"{base}/{{name}}", name=f"save in {spec.section}")
    async def saved(
        name: str, request: Request, ctx: Context, v: Seen, company: Company = None
    ) -> Response:
        form = await posted(request, v)
        return await blocking(save, spec, request, ctx, v, company, name, form)
