"""The pages' two languages (S7, U9): every English phrase has its Swedish one, and the
end of a diversion is said as people say it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from vaxel.web.pages.i18n import EN, SV, text, when

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_every_phrase_is_in_both_languages() -> None:
    assert set(EN) - set(SV) == {"app"}  # the name is the same in both
    assert set(SV) <= set(EN)
    for key in EN:
        assert EN[key].count("{") == text("sv", key).count("{"), key


def test_an_end_time_is_said_as_people_say_it() -> None:
    now = datetime(2027, 3, 3, 9, 0, tzinfo=STOCKHOLM)  # a Wednesday
    assert when("en", datetime(2027, 3, 3, 13, 0, tzinfo=STOCKHOLM), now) == "13:00"
    assert when("sv", datetime(2027, 3, 4, 8, 0, tzinfo=STOCKHOLM), now) == "i morgon 08:00"
    assert when("en", datetime(2027, 3, 8, 8, 0, tzinfo=STOCKHOLM), now) == "Monday 08:00"
    assert when("sv", datetime(2027, 3, 8, 8, 0, tzinfo=STOCKHOLM), now) == "måndag 08:00"
    assert when("en", datetime(2027, 4, 1, 8, 0, tzinfo=STOCKHOLM), now) == "2027-04-01 08:00"
