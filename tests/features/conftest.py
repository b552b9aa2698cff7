"""Acme AB on a switch in memory: the company every feature test calls."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.memory import DOMAIN, MemoryPhone, MemorySwitch, contains

MAIN = "+46812345600"
DIRECT = "+46812345601"
SUPPORT = "+46812345602"
CARRIER = ("203.0.113.5", 5060)
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WORKDAYS = ", ".join(f'{day}: ["08:00-17:00"]' for day in DAYS[:5])
NIGHT = 1_800_000_000.0 - 9 * 3600  # Thursday 14 January 2027, 24:00 in Stockholm

DESCRIPTION = f"""
company: {{domain: {DOMAIN}, name: Acme AB}}
users:
  - {{ext: "1001", name: Anna, admin: true, direct_number: "+46812345611",
     caller_id: {{show: direct, per_device: {{mobile: main}}}}}}
  - {{ext: "1002", name: Björn}}
  - {{ext: "1003", name: Cecilia, ring_time: 5}}
  - {{ext: "1004", name: Dan, voicemail: {{enabled: false}}}}
numbers:
  - {{number: "{MAIN}", flow: main}}
  - {{number: "{DIRECT}", user: "1002"}}
  - {{number: "{SUPPORT}", flow: support}}
prompts:
  welcome: {{text: Välkommen, number: 1}}
  menu: {{text: Tryck ett}}
  submenu: {{text: Tryck noll}}
  closed: {{text: Stängt}}
  invalid: {{text: Fel val}}
  no-key: {{text: Inget val}}
  announcement: {{text: Vänta}}
flows:
  main:
    schedule: office
    welcome: welcome
    menu: main
    closed: {{prompt: closed, destination: {{voicemail: reception}}}}
  support: {{destination: {{group: support}}}}
menus:
  main:
    prompt: menu
    keys: {{"1": {{group: sales}}, "2": {{user: "1003"}}, "3": {{group: queue}},
           "4": {{menu: sub}}, "5": {{group: support}}, "7": {{external: "+46701740605"}},
           "9": {{voicemail: reception}}, "0": repeat, "#": hangup}}
    timeout: 5
    retries: 1
    invalid_prompt: invalid
    timeout_prompt: no-key
    default: {{voicemail: reception}}
  sub:
    prompt: submenu
    keys: {{"1": {{user: "1002"}}, "0": {{menu: main}}}}
schedules:
  office:
    weekly: {{{WORKDAYS}}}
groups:
  sales: {{members: ["1002", "1003"], strategy: sequential, ring_time: 5,
           overflow: {{voicemail: reception}}}}
  support: {{members: ["1002", "1003"], strategy: parallel, ring_time: 10,
             overflow: {{voicemail: reception}}}}
  queue: {{members: ["1002"], ring_time: 5, overflow: {{voicemail: reception}},
           queue: {{announcement: announcement, announce_every: 10, max_wait: 40}}}}
voicemail:
  reception: {{members: ["1001"]}}
trunks:
  carrier: {{host: {CARRIER[0]}, port: {CARRIER[1]}}}
devices: {{mobile: ["Vaxel Mobile"]}}
"""
PROMPTS = ("welcome", "menu", "submenu", "closed", "invalid", "no-key", "announcement")
USERS = {"1001": "Anna", "1002": "Björn", "1003": "Cecilia", "1004": "Dan"}


@pytest.fixture
def acme_as(tmp_path: Path, tone_prompts: Path) -> Iterator[Callable[..., MemorySwitch]]:
    """Acme on a switch: `acme_as(start=..., description=...)` (a variant of DESCRIPTION,
    `background=...`)."""
    made: list[MemorySwitch] = []

    def make(
        start: float = 1_800_000_000.0, description: str = DESCRIPTION, **options: object
    ) -> MemorySwitch:
        switch = MemorySwitch(
            tmp_path / f"data{len(made)}", tone_prompts, description=description,
            prompts=PROMPTS, user_names=USERS, start=start, **options,  # type: ignore[arg-type]
        )  # fmt: skip
        made.append(switch)
        return switch

    yield make
    for switch in made:
        switch.close()


def variant(old: str, new: str) -> str:
    """DESCRIPTION with one part changed (that must be there)."""
    changed = DESCRIPTION.replace(old, new)
    assert changed != DESCRIPTION, old
    return changed


@pytest.fixture
def acme_at(acme_as: Callable[..., MemorySwitch]) -> Callable[[float], MemorySwitch]:
    """Acme on a switch whose clock starts at the given instant."""
    return lambda start: acme_as(start=start)


@pytest.fixture
def acme(acme_as: Callable[..., MemorySwitch]) -> MemorySwitch:
    """Acme during office hours (Friday 09:00)."""
    return acme_as()


def in_the_menu(acme: MemorySwitch, caller: MemoryPhone | None = None) -> MemoryPhone:
    """A caller on the main number (from outside, by default) who heard the welcome and
    the menu."""
    caller = caller or acme.carrier()
    caller.dial(MAIN)
    caller.answered()
    acme.advance(0.7)  # welcome and menu, 0.3 s each
    assert contains(caller.heard(), acme.prompt("menu"))
    return caller
