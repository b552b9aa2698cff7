"""Loops in a company's description (O2, S3, S5, S8, U11): refused when it is applied.

The switch follows some steps without waiting for the caller: a flow goes to its menu
or destination (a welcome plays, but nobody has to press anything), or to its closed
destination; a group whose members are all logged out overflows at once; a menu that
hears no key goes to its default after its retries; a user's forwarding is taken at
once (always, busy, or no answer when no phone is registered); a call to one of the
company's own numbers comes back from the carrier to that number's flow or user. A
cycle of such steps would go round forever (before, it ended the call in a
RecursionError), so `find_loops` refuses it, naming its path:
"flows.main -> groups.sales (overflow) -> flows.main".

Not such steps: a menu's keys and the operator (key 0 after a diversion, U9: there the
caller chooses), voicemail, an outside number,
hangup. A cycle of users forwarding to each other only is allowed (each covers for the
other when busy): the call flows stop after a few forwards. A flow with a schedule takes
its open or its closed way, never both at once, so a cycle that needs one schedule open
and closed at the same time cannot happen and is not refused.

`MAX_STEPS` is the guard the call flows keep at call time behind this check.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from vaxel.services.company_config import (
    CompanyConfig,
    ToExternal,
    ToFlow,
    ToGroup,
    ToMenu,
    ToUser,
)
from vaxel.services.numbering import NumberError, is_external, to_e164

#: The most steps a call may take from one destination to the next without the caller
#: pressing a key (a flow, a group's overflow, a menu's default ...). `find_loops` refuses
#: descriptions that could go round forever; the call flows stop at this depth anyway.
MAX_STEPS = 20


@dataclass(frozen=True, slots=True)
class _Step:
    target: str
    label: str | None  # which setting of the source leads there ("overflow", "default" ...)
    when: tuple[str, bool] | None  # (schedule, open) that this step needs


_RANK = {"flows": 0, "menus": 1, "groups": 2, "numbers": 3, "users": 4}
_MOST_SCHEDULES = 8  # beyond this many in one cycle, every way counts (no 2**n search)


def _steps(config: CompanyConfig) -> dict[str, list[_Step]]:
    """Every step the switch may take without the caller, by the node it starts at."""
    own = {number.number for number in config.numbers}
    steps: dict[str, list[_Step]] = {}

    def node(target: object) -> str | None:
        if isinstance(target, ToUser):
            return f"users.{target.user}"
        if isinstance(target, ToGroup):
            return f"groups.{target.group}"
        if isinstance(target, ToMenu):
            return f"menus.{target.menu}"
        if isinstance(target, ToFlow):
            return f"flows.{target.flow}"
        if isinstance(target, ToExternal) and target.external in own:
            return f"numbers.{target.external}"
        return None  # voicemail, an outside number, hangup: the chain ends

    def add(source: str, target: str | None, label: str | None = None,
            when: tuple[str, bool] | None = None) -> None:  # fmt: skip
        steps.setdefault(source, [])
        if target is not None:
            steps[source].append(_Step(target, label, when))

    for number in config.numbers:
        if number.conference is not None:  # a room: the chain ends there
            add(f"numbers.{number.number}", None)
            continue
        target = f"flows.{number.flow}" if number.flow is not None else f"users.{number.user}"
        add(f"numbers.{number.number}", target)
    for name, flow in config.flows.items():
        way = ToMenu(menu=flow.menu) if flow.menu is not None else flow.destination
        if flow.schedule is None:
            add(f"flows.{name}", node(way))
        else:
            add(f"flows.{name}", node(way), None, (flow.schedule, True))
            add(f"flows.{name}", node(flow.closed.destination), "closed", (flow.schedule, False))
    for name, menu in config.menus.items():
        add(f"menus.{name}", node(menu.default), "default")
    for name, group in config.groups.items():
        add(f"groups.{name}", node(group.overflow), "overflow")
        if group.queue is not None:  # a full queue sends callers on at once too (A7)
            add(f"groups.{name}", node(group.queue.full), "full")
    for user in config.users:
        kinds = ("always",) if user.forwarding.always else ("busy", "no_answer")
        for kind in kinds:
            target = getattr(user.forwarding, kind)
            if target is not None:
                add(f"users.{user.ext}", _forwarded(target, own), f"forwarding.{kind}")
    return steps


def _forwarded(target: str, own: set[str]) -> str | None:
    try:
        if not is_external(target):
            return f"users.{target}"
        number = to_e164(target)
    except NumberError:
        return None
    return f"numbers.{number}" if number in own else None


def _order(node: str) -> tuple[int, str]:
    kind, _, name = node.partition(".")
    return _RANK[kind], name


def _components(steps: dict[str, list[_Step]]) -> Iterator[list[str]]:
    """Strongly connected components (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    nodes = sorted({*steps, *(s.target for out in steps.values() for s in out)}, key=_order)
    for root in nodes:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(steps.get(root, [])))]
        while work:
            node, successors = work[-1]
            for step in successors:
                if step.target not in index:
                    index[step.target] = low[step.target] = len(index)
                    stack.append(step.target)
                    on_stack.add(step.target)
                    work.append((step.target, iter(steps.get(step.target, []))))
                    break
                if step.target in on_stack:
                    low[node] = min(low[node], index[step.target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    yield sorted(component, key=_order)


def _cycle_through(
    steps: dict[str, list[_Step]], start: str, allowed: set[str],
    schedules: dict[str, bool] | None,
) -> list[tuple[str, _Step]] | None:  # fmt: skip
    """The shortest cycle from `start` back to it within `allowed`, following only the
    steps that agree with `schedules` (None: every step)."""
    came: dict[str, tuple[str, _Step] | None] = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for step in steps.get(node, []):
                if step.target not in allowed:
                    continue
                when = step.when
                if schedules is not None and when is not None and schedules[when[0]] != when[1]:
                    continue
                if step.target == start:
                    path = [(node, step)]
                    while (back := came[path[0][0]]) is not None:
                        path.insert(0, back)
                    return path
                if step.target not in came:
                    came[step.target] = (node, step)
                    following.append(step.target)
        frontier = following
    return None


def find_loops(config: CompanyConfig) -> list[str]:
    """One error per loop the switch could follow forever without the caller, with its
    path: "flows.main: loop flows.main -> groups.sales (overflow) -> flows.main (...)".

    Needs a description whose references are right (`check_references`).
    """
    steps = _steps(config)
    errors = []
    for component in _components(steps):
        members = set(component)
        starts = [node for node in component if not node.startswith("users.")]
        if not starts:
            continue  # users forwarding to each other: the call flows count the forwards
        inner = [s for node in component for s in steps.get(node, []) if s.target in members]
        if not inner:
            continue  # one node that does not lead to itself
        names = sorted({s.when[0] for s in inner if s.when is not None})
        choices: list[dict[str, bool] | None] = [None]
        if len(names) <= _MOST_SCHEDULES:
            choices = [
                dict(zip(names, states, strict=True))
                for states in itertools.product((True, False), repeat=len(names))
            ]
        cycle = next(
            (
                found
                for schedules in choices
                for start in starts
                if (found := _cycle_through(steps, start, members, schedules)) is not None
            ),
            None,
        )
        if cycle is not None:
            path = " -> ".join(
                node + (f" ({step.label})" if step.label else "") for node, step in cycle
            )
            first = cycle[0][0]
            errors.append(
                f"{first}: loop {path} -> {first}"
                " (a caller who does nothing would go round it forever)"
            )
    return errors
