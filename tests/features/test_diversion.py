"""features/diversion in memory (U9): a diverted user is not rung; the caller hears who is
away and until when, then leaves a message (1) or reaches the operator (0); the diversion
ends by itself, `ring` rings as usual, and the user sets and clears it by feature code."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tests.features.conftest import variant
from tests.memory import DOMAIN, MemoryPhone, MemorySwitch, contains, tone
from vaxel.media.player import Samples, load_prompt
from vaxel.services import diversions, voicemail
from vaxel.services.company import CompanyServices
from vaxel.services.configuration import prompt_folder

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2027, 1, 15, 9, 0, tzinfo=STOCKHOLM)  # the switch's clock at the start
LUNCH = datetime(2027, 1, 15, 13, 0, tzinfo=STOCKHOLM)
WITH_OPERATOR = variant(
    f"company: {{domain: {DOMAIN}, name: Acme AB}}",
    f'company: {{domain: {DOMAIN}, name: Acme AB, operator: {{user: "1003"}}}}',
)


def divert(acme: MemorySwitch, ext: str, **options: object) -> None:
    """Set a diversion through the service, as the web does; the switch sees it at once."""
    arguments: dict[str, object] = {"status": "lunch", "until": LUNCH, "now": NOW, **options}
    diversions.set_diversion(acme.store, 1, ext, **arguments)  # type: ignore[arg-type]
    acme.advance(0.1)


def company(acme: MemorySwitch) -> CompanyServices:
    found = acme.core.directory.company(1)
    assert found is not None
    return found


def spoken(acme: MemorySwitch, text: str) -> Samples:
    """A text the switch spoke (text to speech) for a call."""
    return load_prompt(company(acme).speech_path(text))


def call(acme: MemorySwitch, caller: MemoryPhone, ext: str, seconds: float = 3.0) -> None:
    """`caller` calls `ext`; the switch answers and says the diversion."""
    caller.dial(ext)
    assert caller.answered() is not None
    acme.advance(seconds)


def test_a_diverted_user_is_not_rung_and_the_caller_hears_why(acme: MemorySwitch) -> None:
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    divert(acme, "1002")
    call(acme, anna, "1002")
    assert bjorn.ringing() is None and not bjorn.invites
    heard = anna.heard()
    # "Björn" "är på lunch" "till" "klockan" "tretton", then "press 1 to leave a message".
    for part in (spoken(acme, "Björn"), *(acme.system(name) for name in (
        "div-lunch", "div-until", "at", "num-13", "div-press-1-voicemail",
    ))):  # fmt: skip
        assert contains(heard, part)
    assert not contains(heard, acme.system("div-press-0-operator"))  # no operator
    assert acme.records == [] and acme.calls  # still in the call, waiting for a key


def test_key_1_leaves_a_message_in_the_users_box(acme: MemorySwitch) -> None:
    anna = acme.phone("1001")
    divert(acme, "1002")
    call(acme, anna, "1002")
    anna.press("1")
    acme.advance(1.0)
    assert contains(anna.heard(), acme.system("beep"))
    words = tone("Anna's words", 2.0)
    anna.say(words)
    acme.advance(0.1)
    anna.press("#")
    acme.advance(1.0)
    (message,) = voicemail.list_messages(acme.store, 1, "1002")
    assert words[800:8800].tobytes() in load_prompt(message.path).tobytes()
    assert contains(anna.heard(), acme.system("goodbye"))


def test_no_key_leads_to_the_voicemail(acme: MemorySwitch) -> None:
    anna = acme.phone("1001")
    divert(acme, "1002")
    call(acme, anna, "1002")
    assert not contains(anna.heard(), acme.system("vm-greeting-generic"))
    acme.advance(6.0)  # the time for a key
    assert contains(anna.heard(), acme.system("vm-greeting-generic"))


def test_key_0_reaches_the_operator(acme_as: Callable[..., MemorySwitch]) -> None:
    acme = acme_as(description=WITH_OPERATOR)
    anna, cecilia = acme.phone("1001"), acme.phone("1003")
    divert(acme, "1002", status="meeting", until=LUNCH + timedelta(days=3))  # Monday
    call(acme, anna, "1002", 4.0)
    heard = anna.heard()
    for name in ("div-meeting", "div-until", "monday", "div-press-1-voicemail",
                 "div-press-0-operator"):  # fmt: skip
        assert contains(heard, acme.system(name)), name
    anna.press("0")
    assert cecilia.ringing() is not None
    cecilia.pick_up()
    assert len(acme.calls) == 1


def test_no_voicemail_and_no_operator_says_goodbye(acme: MemorySwitch) -> None:
    anna = acme.phone("1001")
    divert(acme, "1004", status="custom", text="är på kundbesök", until=None)
    call(acme, anna, "1004", 4.0)
    heard = anna.heard()
    assert contains(heard, spoken(acme, "Dan"))
    assert contains(heard, spoken(acme, "är på kundbesök"))
    assert not contains(heard, acme.system("div-until"))  # no end time: none said
    assert not contains(heard, acme.system("div-press-1-voicemail"))  # his box is off
    assert contains(heard, acme.system("goodbye"))
    assert anna.requests("BYE")


def test_an_ended_diversion_rings_as_usual(acme: MemorySwitch) -> None:
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    before = NOW - timedelta(hours=2)
    divert(acme, "1002", until=NOW - timedelta(minutes=1), now=before)
    anna.dial("1002")
    assert bjorn.ringing() is not None


def test_a_diversion_ends_while_the_switch_runs(acme: MemorySwitch) -> None:
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    divert(acme, "1002", until=NOW + timedelta(seconds=5))
    anna.dial("1002")
    assert bjorn.ringing() is None
    anna.hang_up()
    acme.advance(5.0)
    anna.dial("1002")
    assert bjorn.ringing() is not None


def test_a_diversion_set_to_ring_rings(acme: MemorySwitch) -> None:
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    divert(acme, "1002", ring=True)
    anna.dial("1002")
    assert bjorn.ringing() is not None


def feature(acme: MemorySwitch, phone: MemoryPhone, code: str) -> Samples:
    phone.dial(code)
    assert phone.answered() is not None
    acme.advance(1.0)
    assert phone.requests("BYE")
    return phone.heard()


def test_set_and_cleared_by_feature_code(acme: MemorySwitch) -> None:
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    assert contains(feature(acme, bjorn, "*22*2*1530#"), acme.system("thank-you"))
    info = diversions.get_diversion(acme.store, 1, "1002", NOW)
    assert info is not None and info.status == "meeting" and not info.ring
    assert info.until == datetime(2027, 1, 15, 15, 30, tzinfo=STOCKHOLM)
    acme.advance(0.1)
    call(acme, anna, "1002")
    assert bjorn.ringing() is None
    assert contains(anna.heard(), acme.system("num-15"))
    anna.hang_up()

    assert contains(feature(acme, bjorn, "#22#"), acme.system("thank-you"))
    assert diversions.get_diversion(acme.store, 1, "1002", NOW) is None
    acme.advance(0.1)
    anna.dial("1002")
    assert bjorn.ringing() is not None


@pytest.mark.parametrize(
    ("code", "until"),
    [
        ("*22*1*0830", datetime(2027, 1, 16, 8, 30, tzinfo=STOCKHOLM)),  # passed: tomorrow
        ("*22*3*01180800#", datetime(2027, 1, 18, 8, 0, tzinfo=STOCKHOLM)),  # Monday
        ("*22*5*01100800#", datetime(2028, 1, 10, 8, 0, tzinfo=STOCKHOLM)),  # passed: next year
    ],
)
def test_the_end_time_of_a_feature_code(acme: MemorySwitch, code: str, until: datetime) -> None:
    bjorn = acme.phone("1002")
    assert contains(feature(acme, bjorn, code), acme.system("thank-you"))
    info = diversions.get_diversion(acme.store, 1, "1002", NOW)
    assert info is not None and info.until == until


@pytest.mark.parametrize("code", ["*22*6*1300#", "*22*1*2500#", "*22*1*02300800#", "*22*1#"])
def test_a_wrong_feature_code_sets_nothing(acme: MemorySwitch, code: str) -> None:
    bjorn = acme.phone("1002")
    assert contains(feature(acme, bjorn, code), acme.system("invalid-choice"))
    assert diversions.get_diversion(acme.store, 1, "1002", NOW) is None


def test_a_wrong_key_offers_again(acme: MemorySwitch) -> None:
    anna = acme.phone("1001")
    divert(acme, "1002")
    call(acme, anna, "1002")
    anna.press("7")
    acme.advance(0.5)
    assert contains(anna.heard(), acme.system("invalid-choice"))
    anna.press("1")
    acme.advance(1.0)
    assert contains(anna.heard(), acme.system("beep"))


def test_in_english_for_an_english_company(acme_as: Callable[..., MemorySwitch]) -> None:
    acme = acme_as(
        description=variant(
            f"company: {{domain: {DOMAIN}, name: Acme AB}}",
            f"company: {{domain: {DOMAIN}, name: Acme AB, language: en}}",
        )
    )
    anna = acme.phone("1001")
    divert(acme, "1002", until=LUNCH + timedelta(days=1))
    call(acme, anna, "1002")
    heard = anna.heard()
    for name in ("div-lunch", "div-until", "tomorrow", "at", "num-13", "hundred"):
        assert contains(heard, acme.system(name, "en")), name
    assert not np.array_equal(spoken(acme, "Björn"), [])


def test_spoken_texts_are_kept_by_a_hash_in_the_companys_folder(acme: MemorySwitch) -> None:
    services = company(acme)
    folder = prompt_folder(acme.data, DOMAIN) / "speech"
    hostile = services.speech_path("../../etc/passwd")
    assert hostile.parent == folder and re.fullmatch(r"[0-9a-f]{32}\.wav", hostile.name)
    assert services.speech_path("Björn") == services.speech_path("Björn")
    assert services.speech_path("Björn") != services.speech_path("Björn ")
    anna = acme.phone("1001")
    divert(acme, "1002")
    call(acme, anna, "1002")
    made = services.speech_path("Björn").stat().st_mtime_ns
    anna.hang_up()
    call(acme, anna, "1002")  # the same name again: the same file, not spoken again
    assert services.speech_path("Björn").stat().st_mtime_ns == made
    assert [path.name for path in folder.iterdir()] == [services.speech_path("Björn").name]
