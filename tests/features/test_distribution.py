"""features/distribution (S8, A5): the order each strategy offers a group's call to its free
members, the group's memory of its calls, and tiers that open after a wait; pure."""

from __future__ import annotations

from datetime import date

import pytest

from vaxel.features.distribution import GroupHistory, canonical, order, within_tiers

MEMBERS = ["1001", "1002", "1003", "1004"]
DAY = date(2027, 1, 15)


def test_the_older_spellings_are_ring_all_and_fixed_order() -> None:
    assert canonical("parallel") == "ring-all"
    assert canonical("sequential") == "fixed-order"
    assert canonical("round-robin") == "round-robin"


@pytest.mark.parametrize("strategy", ["fixed-order", "sequential", "ring-all", "parallel"])
def test_fixed_order_and_ring_all_keep_the_member_order(strategy: str) -> None:
    history = GroupHistory()
    history.offered("1002")
    history.finished("1001", 5.0)
    free = ["1003", "1001", "1004"]  # in any order: the member order counts
    assert order(strategy, MEMBERS, free, history, DAY) == ["1001", "1003", "1004"]


def test_round_robin_starts_after_the_member_last_offered() -> None:
    history = GroupHistory()
    assert order("round-robin", MEMBERS, MEMBERS, history, DAY) == MEMBERS  # nobody yet
    history.offered("1002")
    assert order("round-robin", MEMBERS, MEMBERS, history, DAY) == ["1003", "1004", "1001", "1002"]
    # the member after the last offered is not free: the next free one after them
    assert order("round-robin", MEMBERS, ["1001", "1002"], history, DAY) == ["1001", "1002"]
    history.offered("1004")
    assert order("round-robin", MEMBERS, MEMBERS, history, DAY)[0] == "1001"  # round again


def test_round_robin_forgets_a_member_no_longer_in_the_group() -> None:
    history = GroupHistory()
    history.offered("1009")
    assert order("round-robin", MEMBERS, MEMBERS, history, DAY) == MEMBERS


def test_longest_idle_puts_never_called_first_then_the_oldest_end() -> None:
    history = GroupHistory()
    history.finished("1001", 30.0)
    history.finished("1003", 10.0)
    # 1002 and 1004 never took a call of the group (member order), then 1003, then 1001
    assert order("longest-idle", MEMBERS, MEMBERS, history, DAY) == ["1002", "1004", "1003", "1001"]
    history.finished("1003", 40.0)  # a later call of 1003
    assert order("longest-idle", MEMBERS, ["1001", "1003"], history, DAY) == ["1001", "1003"]


def test_fewest_calls_counts_today_ties_by_member_order() -> None:
    history = GroupHistory()
    for ext in ("1001", "1001", "1002", "1004"):
        history.took(ext, DAY)
    assert order("fewest-calls", MEMBERS, MEMBERS, history, DAY) == ["1003", "1002", "1004", "1001"]
    assert history.answered_on("1001", DAY) == 2


def test_fewest_calls_starts_again_each_day() -> None:
    history = GroupHistory()
    history.took("1001", DAY)
    tomorrow = date(2027, 1, 16)
    assert history.answered_on("1001", tomorrow) == 0
    history.took("1002", tomorrow)
    assert history.answered_on("1001", tomorrow) == 0
    assert order("fewest-calls", MEMBERS, MEMBERS, history, tomorrow)[:3] == [
        "1001",
        "1003",
        "1004",
    ]


def test_a_tier_opens_after_its_delay() -> None:
    tiers = {"1003": 2, "1004": 3}
    assert within_tiers(MEMBERS, tiers, 0.0, 10.0) == ["1001", "1002"]
    assert within_tiers(MEMBERS, tiers, 9.9, 10.0) == ["1001", "1002"]
    assert within_tiers(MEMBERS, tiers, 10.0, 10.0) == ["1001", "1002", "1003"]
    assert within_tiers(MEMBERS, tiers, 20.0, 10.0) == MEMBERS
    assert within_tiers(MEMBERS, {}, 0.0, 10.0) == MEMBERS  # everyone in tier 1
