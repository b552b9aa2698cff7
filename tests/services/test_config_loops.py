"""Loops in a description (O2, S3, S5, S8, U11): refused at apply with their path, unless
the caller has to choose (a menu key) or the call flows bound them (users forwarding)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from vaxel.services.company_config import ConfigError, parse_config
from vaxel.services.config_loops import MAX_STEPS

BASE = """
company: {domain: acme.example, name: Acme AB}
users:
  - {ext: "1001", name: Anna}
  - {ext: "1002", name: Björn}
numbers:
  - {number: "08-123 456 00", flow: main}
prompts:
  welcome: {text: Välkommen}
  menu: {text: Tryck ett}
schedules:
  office: {weekly: {monday: ["08:00-17:00"]}}
"""


def _description(extra: str) -> dict[str, Any]:
    data = yaml.safe_load(BASE)
    data.update(yaml.safe_load(extra))
    return data


def _errors(extra: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(_description(extra))
    return caught.value.errors


# -- loops ----------------------------------------------------------------------------------


def test_a_flow_and_a_group_overflow_that_lead_to_each_other_are_refused() -> None:
    errors = _errors("""
flows:
  main: {destination: {group: sales}}
groups:
  sales: {members: ["1001"], overflow: {flow: main}}
""")
    assert errors == [
        "flows.main: loop flows.main -> groups.sales (overflow) -> flows.main"
        " (a caller who does nothing would go round it forever)"
    ]


def test_a_welcome_prompt_does_not_break_a_loop() -> None:
    # The welcome plays, but the switch goes on after it without the caller doing anything.
    errors = _errors("""
flows:
  main: {welcome: welcome, destination: {flow: other}}
  other: {destination: {flow: main}}
""")
    assert errors == [
        "flows.main: loop flows.main -> flows.other -> flows.main"
        " (a caller who does nothing would go round it forever)"
    ]


def test_a_flow_to_itself_is_a_loop() -> None:
    assert _errors("flows: {main: {destination: {flow: main}}}") == [
        "flows.main: loop flows.main -> flows.main"
        " (a caller who does nothing would go round it forever)"
    ]


def test_a_menu_default_back_to_its_flow_is_a_loop() -> None:
    # A caller who presses nothing hears the menu, its retries, then the default: forever.
    errors = _errors("""
flows: {main: {welcome: welcome, menu: main}}
menus: {main: {prompt: menu, keys: {"1": {user: "1001"}}, default: {flow: main}}}
""")
    assert errors == [
        "flows.main: loop flows.main -> menus.main (default) -> flows.main"
        " (a caller who does nothing would go round it forever)"
    ]


def test_a_closed_destination_in_a_loop_is_named() -> None:
    errors = _errors("""
flows:
  main: {schedule: office, destination: {user: "1001"}, closed: {destination: {flow: night}}}
  night: {destination: {group: night}}
groups:
  night: {members: ["1002"], overflow: {flow: main}}
""")
    assert errors == [
        "flows.main: loop flows.main (closed) -> flows.night -> groups.night (overflow)"
        " -> flows.main (a caller who does nothing would go round it forever)"
    ]


def test_a_loop_through_the_companys_own_number_is_refused() -> None:
    # Dialled out through the trunk, the number comes back in as a new call to the flow.
    errors = _errors("""
flows: {main: {destination: {user: "1001"}}}
users:
  - {ext: "1001", name: Anna, forwarding: {always: "08-123 456 00"}}
""")
    assert errors == [
        "flows.main: loop flows.main -> users.1001 (forwarding.always)"
        " -> numbers.+46812345600 -> flows.main"
        " (a caller who does nothing would go round it forever)"
    ]


def test_menu_keys_back_to_a_parent_menu_are_fine() -> None:
    config = parse_config(
        _description("""
flows: {main: {menu: main}}
menus:
  main: {prompt: menu, keys: {"1": {menu: sub}}, default: {menu: sub}}
  sub: {prompt: menu, keys: {"0": {menu: main}, "1": {flow: main}}, default: hangup}
""")
    )
    assert set(config.menus) == {"main", "sub"}


def test_one_schedule_cannot_be_open_and_closed_at_once() -> None:
    # main (open) -> other, other (closed) -> main: both follow the same schedule, so the
    # switch can never take both turns in one go.
    config = parse_config(
        _description("""
flows:
  main: {schedule: office, destination: {flow: other}, closed: {destination: {user: "1001"}}}
  other: {schedule: office, destination: {user: "1002"}, closed: {destination: {flow: main}}}
""")
    )
    assert set(config.flows) == {"main", "other"}


def test_two_schedules_can_make_a_loop() -> None:
    errors = _errors("""
schedules:
  office: {weekly: {monday: ["08:00-17:00"]}}
  late: {weekly: {monday: ["12:00-20:00"]}}
flows:
  main: {schedule: office, destination: {flow: other}, closed: {destination: {user: "1001"}}}
  other: {schedule: late, destination: {user: "1002"}, closed: {destination: {flow: main}}}
""")
    assert errors == [
        "flows.main: loop flows.main -> flows.other (closed) -> flows.main"
        " (a caller who does nothing would go round it forever)"
    ]


def test_users_forwarding_to_each_other_are_bounded_at_call_time() -> None:
    # Each covers for the other when busy: the switch stops after a few forwards.
    config = parse_config(
        _description("""
flows: {main: {destination: {user: "1001"}}}
users:
  - {ext: "1001", name: Anna, forwarding: {busy: "1002"}}
  - {ext: "1002", name: Björn, forwarding: {busy: "1001"}}
""")
    )
    assert config.users[0].forwarding.busy == "1002"
    assert MAX_STEPS >= 10


def test_a_long_chain_is_checked_without_recursion() -> None:
    """500 flows, each to the next: fine; the last one back to the first: one loop."""
    chain = {f"f{i}": {"destination": {"flow": f"f{i + 1}"}} for i in range(499)}
    chain["f499"] = {"destination": {"user": "1001"}}
    data = _description("numbers: [{number: '08-123 456 00', flow: f0}]")
    parse_config({**data, "flows": chain})
    chain["f499"] = {"destination": {"flow": "f0"}}
    with pytest.raises(ConfigError) as caught:
        parse_config({**data, "flows": chain})
    [error] = caught.value.errors
    assert error.startswith("flows.f0: loop flows.f0 -> flows.f1 -> flows.f2 -> ")
    assert error.count(" -> ") == 500
