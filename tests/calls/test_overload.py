"""calls/overload: when new calls are turned away, from the receive queue's depth."""

from __future__ import annotations

from vaxel.calls.overload import DATAGRAM_TRUESIZE, SHED_AT, Overload
from vaxel.transport.base import Backlog

BIG = 16 * 1024 * 1024  # a receive buffer larger than the threshold


def test_sheds_from_a_deep_queue_until_it_has_mostly_drained() -> None:
    overload = Overload()
    high = SHED_AT * DATAGRAM_TRUESIZE
    assert not overload.update(Backlog(0, BIG))
    assert not overload.update(Backlog(high - 1, BIG))  # a burst the switch works off
    assert overload.update(Backlog(high, BIG))
    assert overload.update(Backlog(high // 2, BIG))  # still behind: keeps shedding
    assert not overload.update(Backlog(high // 5, BIG))
    assert not overload.update(Backlog(high // 2, BIG))  # ... and does not start again at once
    assert overload.episodes == 1


def test_a_small_buffer_sheds_before_the_kernel_drops() -> None:
    overload = Overload()
    small = 425_984  # Linux's default limit (rmem_max 212992, doubled): ~180 datagrams
    assert not overload.update(Backlog(small // 2, small))
    assert overload.update(Backlog(small * 3 // 4, small))


def test_without_a_reading_nothing_is_shed() -> None:
    overload = Overload()
    assert overload.update(Backlog(BIG, BIG))
    assert not overload.update(None)  # a kernel that does not say
    assert not overload.update(Backlog(0, 0))
