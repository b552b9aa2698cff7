"""Editing one named part of a company's description from a page (S7: S1, S3, S5, S6, S8).

Every admin page that changes numbers, menus, schedules, groups, voicemail boxes or
prompts comes through `save_item`: the item is rebuilt from the form, written into the
exported description and the whole is applied with `configuration.change_config`, as
PUT /api/v1/companies/{domain}/{section}/{name} and `vaxel config apply` do. So a page
refuses what they refuse, with the same lines (`menus.main.keys.1: unknown group
"salj"`), and `split_errors` puts each line next to the form field its path names.

A form carries the item's ETag as read (`tag`); a save over a newer item is refused
(stale) rather than overwriting what someone else changed meanwhile, as on the users
page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from vaxel.services import configuration
from vaxel.services.companies import CompanyInfo
from vaxel.services.company_config import ConfigError
from vaxel.services.errors import ServiceError
from vaxel.web.api.sections import etag_of, items_of, secrets_sent, store_items
from vaxel.web.auth import audit_change
from vaxel.web.context import WebContext
from vaxel.web.pages.base import Viewer
from vaxel.web.pages.i18n import text
from vaxel.web.problems import Problem


@dataclass
class Outcome:
    """What a save did: nothing (errors by field, and the rest), or the item stored."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    item: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and not self.general


def split_errors(
    lines: Iterable[str], prefix: str, fields: Iterable[str]
) -> tuple[dict[str, list[str]], list[str]]:
    """The description's error lines by form field: a line whose path is `prefix` + a
    field (or below it: `keys.1.user` goes to `keys.1`) goes to that field, the longest
    that matches; every other line is general."""
    names = sorted(fields, key=len, reverse=True)
    by_field: dict[str, list[str]] = {}
    rest: list[str] = []
    for line in lines:
        path = line.split(":", 1)[0]
        rel = path[len(prefix) :] if path.startswith(prefix) else None
        name = next((n for n in names if rel == n or (rel or "").startswith(n + ".")), None)
        if name is None:
            rest.append(line)
        else:
            by_field.setdefault(name, []).append(line)
    return by_field, rest


def items(ctx: WebContext, info: CompanyInfo, section: str) -> dict[str, Any]:
    """The section's items as the description has them (exported: no secrets)."""
    data, _ = configuration.export_data(ctx.store, info.domain)
    return items_of(data, section)


def tags(found: dict[str, Any]) -> dict[str, str]:
    return {name: etag_of(item) for name, item in found.items()}


def save_item(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    info: CompanyInfo,
    section: str,
    name: str,
    build: Callable[[dict[str, Any] | None], dict[str, Any] | None],
    *,
    tag: str,
    fields: Iterable[str],
    new: bool = False,
) -> Outcome:
    """Replace item `name` of `section` with `build(old)` (None removes it), through the
    whole description. `tag` is the ETag the form was read with ('' for none); `new`
    refuses a name that is taken (the error goes to the field `name`)."""
    where = {"prefix": f"{section}.{name}."}
    before: dict[str, Any] = {}
    wanted: dict[str, Any] = {}

    def change(data: dict[str, Any]) -> None:
        found = items_of(data, section)
        old = found.get(name)
        if old is not None and new:
            raise Problem(409, "exists")
        if old is not None and tag and etag_of(old) != tag:
            raise Problem(412, "stale")
        if old is None and not new:
            raise Problem(404, "")
        before.clear()
        before.update(old or {})
        item = build(None if old is None else dict(old))
        if item is None:
            found.pop(name, None)
        else:
            found[name] = item
            wanted.update(item)
            if section == "numbers":
                where["prefix"] = f"numbers.{list(found).index(name)}."
        store_items(data, section, found)

    try:
        _, after = configuration.change_config(
            ctx.store, info.domain, change, data=ctx.data, source_dir=ctx.uploads(info.domain),
            by_provider=v.role == "provider",
        )  # fmt: skip
    except ConfigError as exc:
        by_field, rest = split_errors(exc.errors, where["prefix"], fields)
        return Outcome(by_field, [text(v.lang, "part.errors"), *rest])
    except Problem as exc:
        if exc.status == 412:
            return Outcome({}, [text(v.lang, "part.errors"), text(v.lang, "part.stale")])
        if exc.status == 409:
            return Outcome({"name": [f"{section}.{name}: {text(v.lang, 'part.exists')}"]},
                           [text(v.lang, "part.errors")])  # fmt: skip
        raise
    except ServiceError as exc:
        return Outcome({}, [text(v.lang, "part.errors"), exc.message])
    stored = items_of(after, section).get(name)
    action = f"{section}.delete" if stored is None else f"{section}.put"
    logged = None if stored is None else {**stored, **secrets_sent(wanted)}  # set, never shown
    audit_change(ctx, v.who, request, action, name, company_id=info.id,
                 before=before or None, after=logged)  # fmt: skip
    return Outcome(item=stored)


def words(value: str) -> list[str]:
    """A list typed into one field: split on commas and white space, empty parts dropped
    ("1002, 1003" and "1002 1003" are the same members)."""
    return [part for part in value.replace(",", " ").split() if part]


def destination(kind: str, target: str) -> Any:
    """A destination as the description writes it, from a kind and a name ("" kind: none).
    "repeat" and "hangup" (menu actions) need no name."""
    if kind in ("", "none"):
        return None
    if kind in ("repeat", "hangup"):
        return kind
    return {kind: target}


def destination_fields(value: Any) -> tuple[str, str]:
    """A stored destination as (kind, name) for a form."""
    if value is None:
        return "", ""
    if isinstance(value, str):
        return value, ""
    kind, target = next(iter(dict(value).items()))
    return str(kind), str(target)
