"""features/queue_live in memory (A11, A5): who waits in a queue now and how long, the
agents' states (free, busy, wrap-up, logged out), and the live event of a caller joining
and leaving the queue."""

from __future__ import annotations

from collections.abc import Callable

from tests.features.conftest import in_the_menu
from tests.features.test_groups import talk_from_the_queue, with_wrap_up
from tests.memory import MemorySwitch
from vaxel.app import _queue_live
from vaxel.bus import QueueChanged
from vaxel.features.queue_live import QueueNow


def queue_now(acme: MemorySwitch) -> QueueNow:
    (found,) = _queue_live(acme.core)(1)  # Acme's one queue group, "queue"
    return found


def test_callers_waiting_in_line_with_their_waits_longest_first(acme: MemorySwitch) -> None:
    first = in_the_menu(acme)
    first.press("3")
    acme.advance(4.0)
    second = in_the_menu(acme, acme.phone("1001"))
    second.press("3")
    acme.advance(1.0)
    now = queue_now(acme)
    assert now.group == "queue"
    assert [w.caller for w in now.waiting] == ["+46701740605", "1001"]
    assert 5.5 < now.waiting[0].waited < 6.0 and 0.9 < now.waiting[1].waited < 1.1
    assert now.longest_wait == now.waiting[0].waited
    first.hang_up()
    acme.run()
    assert [w.caller for w in queue_now(acme).waiting] == ["1001"]


def test_an_agent_is_free_busy_in_wrap_up_or_logged_out(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_wrap_up(30))
    bjorn = acme.phone("1002")
    assert queue_now(acme).agents == (("1002", "free"),)
    assert (queue_now(acme).logged_in, queue_now(acme).count("free")) == (1, 1)
    caller = in_the_menu(acme)
    caller.press("3")
    acme.until(lambda: bjorn.ringing() is not None)
    assert queue_now(acme).agents == (("1002", "free"),)  # rung, not yet in the call
    bjorn.pick_up()
    acme.run()
    assert queue_now(acme).agents == (("1002", "busy"),)
    assert queue_now(acme).waiting == ()  # answered: out of the line
    caller.hang_up()
    acme.run()
    assert queue_now(acme).agents == (("1002", "wrap_up"),)
    acme.advance(31.0)
    assert queue_now(acme).agents == (("1002", "free"),)
    company = acme.core.directory.company(1)
    assert company is not None
    company.settings.logged_out.add(("queue", "1002"))
    assert queue_now(acme).agents == (("1002", "logged_out"),)
    assert queue_now(acme).logged_in == 0


def test_joining_and_leaving_the_queue_are_live_events(acme: MemorySwitch) -> None:
    seen: list[QueueChanged] = []
    acme.core.bus.subscribe(QueueChanged, seen.append)
    acme.core.bus.watch(1)
    bjorn = acme.phone("1002")
    talk_from_the_queue(acme, bjorn)  # joins, is answered (leaves), talks, hangs up
    assert [(e.group, e.caller, e.joined, e.waiting) for e in seen] == [
        ("queue", "+46701740605", True, 1),
        ("queue", "+46701740605", False, 0),
    ]


def test_no_event_is_built_when_nobody_watches(acme: MemorySwitch) -> None:
    seen: list[QueueChanged] = []
    acme.core.bus.subscribe(QueueChanged, seen.append)
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(1.0)
    assert seen == [] and len(queue_now(acme).waiting) == 1
