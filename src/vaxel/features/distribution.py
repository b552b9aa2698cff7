"""Which members an answering group's call is offered to, and in what order (S8, A5).

The strategies (`GroupConfig.strategy`):

- ring-all (the default; "parallel" before): every free member at once; the first to
  answer takes the call;
- fixed-order ("sequential" before): one at a time, each round from the first member;
- round-robin: one at a time, starting after the member last offered a call of the
  group, across calls (so three calls to three free members reach each once);
- longest-idle: one at a time, first the member whose last call of the group ended
  longest ago; members who took none yet come first;
- fewest-calls: one at a time, first the member who answered the fewest calls of the
  group today (in the company's time zone), ties by member order.

Tiers: a member may be in tier 2, 3 ... (`GroupConfig.tiers`, tier 1 by default); a caller
is offered to tier N only once they have waited `tier_delay` x (N - 1) seconds.

The group's memory of its calls (`GroupHistory`: who was offered a call last, when each
member's last call ended, the calls each answered today) is kept in memory per company
(services/directory.py, as the queues), so it outlives a reload of the description but
not a restart. Everything here is pure: the caller (features/groups.py) says who is free.
"""

from __future__ import annotations

from datetime import date

from vaxel.services.company_config import STRATEGY_ALIASES

RING_ALL = "ring-all"


def canonical(strategy: str) -> str:
    """The strategy's name, for either of its spellings (a description has the new one
    already: services/company_config.py reads the older as the new)."""
    return STRATEGY_ALIASES.get(strategy, strategy)


class GroupHistory:
    """What one group remembers of its calls, for the strategies that look back."""

    def __init__(self) -> None:
        self.last_offered: str | None = None  # round-robin: the member offered a call last
        self.ended: dict[str, float] = {}  # longest-idle: member -> when their last call ended
        self.day: date | None = None  # fewest-calls: the day `answered` counts
        self.answered: dict[str, int] = {}  # member -> calls of the group answered that day

    def offered(self, extension: str) -> None:
        self.last_offered = extension

    def took(self, extension: str, day: date) -> None:
        """`extension` answered one of the group's calls on `day`."""
        if day != self.day:
            self.day, self.answered = day, {}
        self.answered[extension] = self.answered.get(extension, 0) + 1

    def finished(self, extension: str, at: float) -> None:
        """`extension`'s call of the group ended at `at` (switchboard time)."""
        self.ended[extension] = at

    def answered_on(self, extension: str, day: date) -> int:
        return self.answered.get(extension, 0) if day == self.day else 0


def order(
    strategy: str, members: list[str], free: list[str], history: GroupHistory, today: date
) -> list[str]:
    """The `free` members (a part of `members`, the group's, in their order) in the order a
    one-at-a-time strategy offers them the call this round; ring-all keeps the member order
    (all are rung at once)."""
    strategy = canonical(strategy)
    free = [ext for ext in members if ext in free]
    if strategy == "round-robin" and history.last_offered in members:
        after = members.index(history.last_offered) + 1
        turn = members[after:] + members[:after]
        return [ext for ext in turn if ext in free]
    if strategy == "longest-idle":
        # Never called first (False sorts first), then the oldest end; sorted() is stable,
        # so ties keep the member order.
        return sorted(free, key=lambda ext: (ext in history.ended, history.ended.get(ext, 0.0)))
    if strategy == "fewest-calls":
        return sorted(free, key=lambda ext: history.answered_on(ext, today))
    return free


def tier_of(tiers: dict[str, int], extension: str) -> int:
    return tiers.get(extension, 1)


def within_tiers(
    members: list[str], tiers: dict[str, int], waited: float, delay: float
) -> list[str]:
    """The members whose tier is open to a caller who has waited `waited` seconds: tier N
    opens after `delay` x (N - 1)."""
    return [ext for ext in members if waited >= delay * (tier_of(tiers, ext) - 1)]
