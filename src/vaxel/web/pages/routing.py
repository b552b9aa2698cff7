"""Where calls go, from the company admin's pages (S7: S1 main numbers, S3 menus).

Numbers: each inbound number leads to a call flow (a main number) or straight to a user
(a direct number); the admin adds, points elsewhere and removes them. Call flows: a
main number's schedule, welcome, menu (or destination) and what callers meet when it is
closed (S1, S2, S5, A8). Menus: a tree from each flow through its menu and keys to the
groups, users, boxes and further menus they reach, and a form per menu (prompt, a
destination per key, timeout, retries, default). Menus and flows declare their fields and
converters; `sections.add_section` makes their routes. All go through `parts.save_item`,
so the errors are `config apply`'s, next to the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from vaxel.services import configuration
from vaxel.services.companies import CompanyInfo
from vaxel.services.company_config import KEYS
from vaxel.services.numbering import NumberError, to_e164
from vaxel.web.context import WebContext, blocking
from vaxel.web.pages import parts
from vaxel.web.pages.admin import Company
from vaxel.web.pages.base import (
    Context,
    PageRoute,
    Seen,
    Viewer,
    company_page,
    link_for,
    redirect,
    render,
)
from vaxel.web.pages.base import field as form_field
from vaxel.web.pages.i18n import text
from vaxel.web.pages.sections import Section, add_section, done_text, posted, remove_item

router = APIRouter(prefix="/admin", route_class=PageRoute, include_in_schema=False)

NUMBER_KINDS = ("flow", "user", "conference")  # conference: a room (A3)
KINDS = ("user", "group", "voicemail", "menu", "external", "flow")
ACTIONS = (*KINDS, "repeat", "hangup")
MENU_FIELDS = ("name", "prompt", "timeout", "retries", "default",
               *(f"keys.{key}" for key in KEYS))  # fmt: skip


# -- numbers ------------------------------------------------------------------------------


def _numbers_page(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    company: str | None,
    *,
    done: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    general: list[str] | None = None,
    status: int = 200,
) -> Response:
    info = company_page(ctx, v, company)
    found = parts.items(ctx, info, "numbers")
    return render(request, "admin/numbers.html", v, status=status, company=info, nav="numbers",
                  numbers=found, tags=parts.tags(found), kinds=NUMBER_KINDS,
                  values=values or {"number": "", "kind": "flow", "target": ""},
                  errors=errors or {}, general=general or [], done=done_text(v, done),
                  action=link_for(v, "/admin/numbers", info),
                  remove=link_for(v, "/admin/numbers/remove", info))  # fmt: skip


@router.get("/numbers")
def numbers(
    request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
) -> Response:
    """The company's inbound numbers and where each leads (S1)."""
    return _numbers_page(request, ctx, v, company, done=done)


@router.post("/numbers")
async def save_number(request: Request, ctx: Context, v: Seen, company: Company = None) -> Response:
    form = await posted(request, v)
    return await blocking(_save_number, request, ctx, v, company, form)


def _save_number(
    request: Request, ctx: WebContext, v: Viewer, company: str | None, form: FormData
) -> Response:
    """Add a number, or point one elsewhere (the row's form carries its tag)."""
    info = company_page(ctx, v, company)
    values = {name: form_field(form, name) for name in ("number", "kind", "target", "tag")}
    kind = values["kind"] if values["kind"] in NUMBER_KINDS else "flow"
    tag = values["tag"]
    try:
        number = to_e164(values["number"])
    except NumberError as exc:
        index = len(parts.items(ctx, info, "numbers"))
        return _numbers_page(request, ctx, v, company, values=values, status=422,
                             errors={"number": [f"numbers.{index}.number: {exc}"]},
                             general=[text(v.lang, "part.errors")])  # fmt: skip
    outcome = parts.save_item(
        request, ctx, v, info, "numbers", number,
        lambda old: {"number": number, kind: values["target"]},
        tag=tag, fields=("number", "flow", "user", "conference"), new=not tag,
    )  # fmt: skip
    if not outcome.ok:  # (a number added twice is "taken": said at the number's field)
        fields = {"flow": "target", "user": "target", "conference": "target", "name": "number"}
        errors = {fields.get(k, k): lines for k, lines in outcome.errors.items()}
        return _numbers_page(request, ctx, v, company, values=values, errors=errors,
                             general=outcome.general, status=422)  # fmt: skip
    return redirect(link_for(v, "/admin/numbers", info, done="saved" if tag else "created"))


@router.post("/numbers/remove")
async def remove_number(
    request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    form = await posted(request, v)
    return await blocking(remove_item, request, ctx, v, company, form, "numbers", _refused)


def _refused(
    request: Request, ctx: WebContext, v: Viewer, company: str | None, general: list[str]
) -> Response:
    return _numbers_page(request, ctx, v, company, general=general, status=422)


# -- menus --------------------------------------------------------------------------------


@dataclass
class Node:
    """One line of the menu tree: what it is, its name, the key that leads to it, and
    what it leads to in turn (a menu or flow seen before is shown, not followed again)."""

    kind: str
    name: str
    key: str = ""
    children: list[Node] = field(default_factory=list)
    again: bool = False


def _tree(data: dict[str, Any]) -> list[Node]:
    """Flows → menus → keys → groups, users, boxes and further menus."""
    flows, menus = data.get("flows", {}), data.get("menus", {})

    def menu(name: str, key: str, seen: frozenset[str]) -> Node:
        node = Node("menu", name, key)
        if name in seen or name not in menus:
            node.again = name in seen
            return node
        for pressed, action in menus[name].get("keys", {}).items():
            node.children.append(target(action, pressed, seen | {name}))
        node.children.append(target(menus[name].get("default", "hangup"), "default", seen | {name}))
        return node

    def target(action: Any, key: str, seen: frozenset[str]) -> Node:
        kind, name = parts.destination_fields(action)
        if kind == "menu":
            return menu(name, key, seen)
        return Node(kind, name, key)

    roots = []
    reached: set[str] = set()
    for name, flow in flows.items():
        node = Node("flow", name)
        if flow.get("menu"):
            node.children.append(menu(flow["menu"], "", frozenset()))
        elif flow.get("destination") is not None:
            node.children.append(target(flow["destination"], "", frozenset()))
        closed = (flow.get("closed") or {}).get("destination")
        if closed is not None:
            node.children.append(target(closed, "closed", frozenset()))
        roots.append(node)

    def walk(node: Node) -> None:
        if node.kind == "menu":
            reached.add(node.name)
        for child in node.children:
            walk(child)

    for root in roots:
        walk(root)
    roots += [menu(name, "", frozenset()) for name in menus if name not in reached]
    return roots


def _menus_listing(ctx: WebContext, info: CompanyInfo) -> dict[str, Any]:
    data = configuration.export_data(ctx.store, info.domain)[0]
    menus = data.get("menus", {})
    return {"tree": _tree(data), "menus": menus, "tags": parts.tags(menus)}


def _menu_values(name: str, menu: dict[str, Any] | None) -> dict[str, str]:
    menu = menu or {}
    values = {"name": name, "prompt": str(menu.get("prompt", "")),
              "timeout": str(menu.get("timeout", 5.0)),
              "retries": str(menu.get("retries", 2))}  # fmt: skip
    values["default.kind"], values["default.target"] = parts.destination_fields(
        menu.get("default", "hangup")
    )
    for key in KEYS:
        kind, target = parts.destination_fields(menu.get("keys", {}).get(key))
        values[f"keys.{key}.kind"], values[f"keys.{key}.target"] = kind, target
    return values


def _number(value: str) -> Any:
    """A number typed in a field, or the text itself for the model to refuse with its words."""
    try:
        return int(value) if value.isdigit() else float(value)
    except ValueError:
        return value


def _menu(values: dict[str, str], old: dict[str, Any] | None) -> dict[str, Any]:
    item = dict(old or {})
    item["prompt"] = values["prompt"]
    item["timeout"] = _number(values["timeout"])
    item["retries"] = _number(values["retries"])
    item["default"] = (
        parts.destination(values["default.kind"], values["default.target"]) or "hangup"
    )
    keys = {}
    for key in KEYS:
        action = parts.destination(values[f"keys.{key}.kind"], values[f"keys.{key}.target"])
        if action is not None:
            keys[key] = action
    item["keys"] = keys
    return item


add_section(router, Section(
    "menus", "admin/menus.html", "admin/menu_form.html", MENU_FIELDS, _menu_values, _menu,
    _menus_listing,
    lambda ctx, info: {"keys": KEYS, "kinds": KINDS, "actions": ACTIONS,
                       "prompts": sorted(parts.items(ctx, info, "prompts"))},
))  # fmt: skip


# -- call flows ---------------------------------------------------------------------------

FLOW_FIELDS = ("name", "schedule", "welcome", "menu", "destination", "closed.prompt",
               "closed.destination")  # fmt: skip


def _flow_values(name: str, flow: dict[str, Any] | None) -> dict[str, str]:
    flow = flow or {}
    closed = flow.get("closed") or {}
    values = {"name": name, "schedule": str(flow.get("schedule") or ""),
              "welcome": str(flow.get("welcome") or ""), "menu": str(flow.get("menu") or ""),
              "closed.prompt": str(closed.get("prompt") or "")}  # fmt: skip
    values["destination.kind"], values["destination.target"] = parts.destination_fields(
        flow.get("destination")
    )
    values["closed.destination.kind"], values["closed.destination.target"] = (
        parts.destination_fields(closed.get("destination"))
    )
    return values


def _flow(values: dict[str, str], old: dict[str, Any] | None) -> dict[str, Any]:
    """A flow from its form: what is left empty is left out (no schedule: always open)."""
    item: dict[str, Any] = {}
    for key in ("schedule", "welcome", "menu"):
        if values[key]:
            item[key] = values[key]
    where = parts.destination(values["destination.kind"], values["destination.target"])
    if where is not None:
        item["destination"] = where
    closed: dict[str, Any] = {}
    if values["closed.prompt"]:
        closed["prompt"] = values["closed.prompt"]
    shut = parts.destination(values["closed.destination.kind"],
                             values["closed.destination.target"])  # fmt: skip
    if shut is not None:
        closed["destination"] = shut
    if closed:
        item["closed"] = closed
    return item


def _flows_listing(ctx: WebContext, info: CompanyInfo) -> dict[str, Any]:
    found = parts.items(ctx, info, "flows")
    numbers = parts.items(ctx, info, "numbers")
    used = {name: [n for n, item in numbers.items() if item.get("flow") == name] for name in found}
    return {"flows": found, "used": used, "tags": parts.tags(found)}


def _flow_choices(ctx: WebContext, info: CompanyInfo) -> dict[str, Any]:
    data = configuration.export_data(ctx.store, info.domain)[0]
    return {"kinds": KINDS, "prompts": sorted(data.get("prompts", {})),
            "menus": sorted(data.get("menus", {})),
            "schedules": sorted(data.get("schedules", {}))}  # fmt: skip


add_section(router, Section(
    "flows", "admin/flows.html", "admin/flow_form.html", FLOW_FIELDS, _flow_values, _flow,
    _flows_listing, _flow_choices,
))  # fmt: skip
