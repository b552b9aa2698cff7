"""Dialled numbers, destination classes, the toll-fraud guard and caller ID (P6, S1, U8).

Numbers are fictional: Sweden's range for fiction (070-174 06 05 .. 99), Ofcom's drama
range in London (020 7946 0xxx), the US 555-01xx range, or the brief's own examples.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType
from pydantic import ValidationError

from vaxel.services.numbering import (
    CallerIdChoice,
    Decision,
    NumberError,
    OutboundPolicy,
    caller_id,
    check,
    classify,
    emergency_number,
    is_external,
    is_short_number,
    to_e164,
)

# -- to_e164 (P6) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialled", "e164"),
    [
        ("08-123 456 78", "+46812345678"),
        ("(08) 123 456 78", "+46812345678"),
        ("070-123 45 67", "+46701234567"),
        ("0701234567", "+46701234567"),
        ("070-174 06 05", "+46701740605"),
        ("  070 - 174 06 99 ", "+46701740699"),
        ("031-123 45 67", "+46311234567"),
        ("0980-123 45", "+4698012345"),
        ("020-123 456", "+4620123456"),
        ("0046 70 123 45 67", "+46701234567"),
        ("0046 8 123 456 78", "+46812345678"),
        ("+46 8 123 456 78", "+46812345678"),
        ("+46 (0)8 123 456 78", "+46812345678"),
        ("+46701234567", "+46701234567"),
        ("0044 20 7946 0000", "+442079460000"),
        ("+44 (20) 7946-0999", "+442079460999"),
        ("001 212 555 0123", "+12125550123"),
        ("+1 (212) 555-0123", "+12125550123"),
    ],
)
def test_to_e164_accepts_what_people_write(dialled: str, e164: str) -> None:
    assert to_e164(dialled) == e164


def test_to_e164_with_another_home_country() -> None:
    assert to_e164("020 7946 0000", country="GB") == "+442079460000"
    assert to_e164("00 46 70 174 06 05", country="GB") == "+46701740605"


@pytest.mark.parametrize(
    ("dialled", "message"),
    [
        ("070-123", "'070-123' is too short to be a phone number"),
        ("08-123", "'08-123' is too short to be a phone number"),
        ("0", "'0' is too short to be a phone number"),
        ("0044 20 79", "'0044 20 79' is too short to be a phone number"),
        ("070-123 45 67 89 01", "'070-123 45 67 89 01' is too long to be a phone number"),
        ("+882 1234 5678", "'+882 1234 5678' is not a valid phone number"),
        ("0000 123", "'0000 123' is not a valid phone number"),
        ("+999 1234", "'+999 1234' is not a phone number"),
        ("", "no number dialled"),
        ("   ", "no number dialled"),
        ("070-CALL-NOW", "is not a phone number (digits, a leading +"),
        ("070 123 45 67 ext 12", "is not a phone number"),
        ("0+46701234567", "is not a phone number"),
        ("++46701234567", "is not a phone number"),
        ("*21*0701234567#", "is not a phone number"),
        ("٠٧٠١٢٣٤٥٦٧", "is not a phone number"),
    ],
)
def test_to_e164_refuses_what_is_not_a_number(dialled: str, message: str) -> None:
    with pytest.raises(NumberError, match=message.replace("(", r"\(").replace("+", r"\+")):
        to_e164(dialled)


def test_number_error_is_a_value_error_and_says_when_digits_are_missing() -> None:
    with pytest.raises(ValueError) as short:
        to_e164("070-123")
    assert isinstance(short.value, NumberError) and short.value.incomplete
    with pytest.raises(NumberError) as wrong:
        to_e164("+882 1234 5678")
    assert not wrong.value.incomplete


def _example_numbers() -> list[str]:
    """Every example number phonenumbers knows, for every region and every number type."""
    numbers = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in range(11):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None and phonenumbers.is_valid_number(example):
                numbers.add(
                    phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                )
    return sorted(numbers)


def _random_valid_numbers(count: int) -> list[str]:
    """Valid numbers found by trying random digits after a random country code (seeded),
    in their E.164 spelling ("+44 020..." is valid but not E.164)."""
    rng = random.Random(4)
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    found: list[str] = []
    while len(found) < count:
        candidate = f"+{rng.choice(codes)}" + "".join(
            rng.choice("0123456789") for _ in range(rng.randint(4, 12))
        )
        try:
            parsed = phonenumbers.parse(candidate)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            found.append(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    return found


def test_to_e164_of_any_valid_e164_is_itself() -> None:
    numbers = _example_numbers() + _random_valid_numbers(1000)
    assert len(numbers) > 1500
    changed = {n: to_e164(n) for n in numbers if to_e164(n) != n}
    assert changed == {}


def test_to_e164_is_idempotent_on_national_input() -> None:
    for dialled in ("08-123 456 78", "070-174 06 42", "0044 20 7946 0123", "020-123 456"):
        once = to_e164(dialled)
        assert to_e164(once) == once


# -- emergency numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialled", "sent"),
    [
        ("112", "112"),
        (" 1 1 2 ", "112"),
        ("+46112", "112"),
        ("+46 112", "112"),
        ("0046 112", "112"),
        ("90000", "90000"),
        ("114 14", "11414"),
        ("113 13", "11313"),
        ("1177", "1177"),
        ("+46 1177", "1177"),
    ],
)
def test_emergency_numbers_stay_short_numbers_for_the_trunk(dialled: str, sent: str) -> None:
    assert emergency_number(dialled) == sent
    assert to_e164(dialled) == sent
    assert is_short_number(sent)
    assert classify(dialled) == "emergency"


@pytest.mark.parametrize("dialled", ["1120", "11", "08-112", "+112", "0112", "118 118", "911"])
def test_other_short_numbers_are_not_emergency_numbers(dialled: str) -> None:
    assert emergency_number(dialled) is None
    with pytest.raises(NumberError):
        to_e164(dialled)


def test_emergency_numbers_of_another_country() -> None:
    assert emergency_number("999", country="GB") == "999"
    assert emergency_number("+44 999", country="GB") == "999"
    assert emergency_number("1177", country="GB") is None
    assert emergency_number("999") is None


def test_e164_results_are_not_short_numbers() -> None:
    assert not is_short_number(to_e164("070-123 45 67"))


# -- is_external ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dialled",
    ["0701234567", "070-123 45 67", "08-123 456 78", "+44 20 7946 0000", "0044207946000", "0"],
)
def test_leading_zero_or_plus_is_external(dialled: str) -> None:
    assert is_external(dialled)


@pytest.mark.parametrize("dialled", ["1002", "10", "2001", "12345678", "99"])
def test_extensions_are_internal(dialled: str) -> None:
    assert not is_external(dialled)


@pytest.mark.parametrize("dialled", ["112", "11414", "1177", "+46112"])
def test_emergency_numbers_are_external_even_when_they_look_like_extensions(
    dialled: str,
) -> None:
    assert is_external(dialled)


def test_extension_length_range_decides_what_an_extension_is() -> None:
    assert not is_external("123456", extension_length_range=(3, 6))
    with pytest.raises(NumberError, match=r"neither an extension \(3-6 digits\)"):
        is_external("1234567", extension_length_range=(3, 6))
    with pytest.raises(NumberError, match="neither an extension"):
        is_external("7")
    with pytest.raises(NumberError, match="is not a phone number"):
        is_external("anna")
    with pytest.raises(ValueError, match="bad extension length range"):
        is_external("1002", extension_length_range=(5, 3))


# -- classify -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("08-123 456 78", "national"),
        ("+46812345678", "national"),
        ("031-123 45 67", "national"),
        ("0980-123 45", "national"),
        ("010-123 45 67", "national"),
        ("070-123 45 67", "mobile"),
        ("072-123 45 67", "mobile"),
        ("073-123 45 67", "mobile"),
        ("076-123 45 67", "mobile"),
        ("079-123 45 67", "mobile"),
        ("070-174 06 05", "mobile"),
        ("+46701740699", "mobile"),
        ("020-123 456", "toll-free"),
        ("0200-123 456", "toll-free"),
        ("0771-123 456", "shared-cost"),
        ("0900-123 45 67", "premium"),
        ("0939-123 456", "premium"),
        ("0944-123 456", "premium"),
        ("075-123 45 67", "special"),
        ("0740-123 456", "special"),
        ("0044 20 7946 0000", "international"),
        ("+1 212 555 0123", "international"),
        ("+44 909 879 0000", "premium"),
        ("+979 1 2345 6789", "premium"),
        ("+881 6 1234 5678", "special"),
        ("+870 773 123 456", "special"),
        ("+883 140 000 0000", "special"),
        ("112", "emergency"),
    ],
)
def test_classify(number: str, kind: str) -> None:
    assert classify(number) == kind


def test_classify_from_another_home_country() -> None:
    assert classify("+442079460000", country="GB") == "national"
    assert classify("+46701234567", country="GB") == "international"
    assert classify("+469001234567", country="GB") == "premium"


def test_every_swedish_premium_example_is_premium() -> None:
    example = phonenumbers.example_number_for_type("SE", PhoneNumberType.PREMIUM_RATE)
    assert example is not None
    assert classify(phonenumbers.format_number(example, 0)) == "premium"


def test_classify_refuses_invalid_numbers() -> None:
    with pytest.raises(NumberError, match="too short"):
        classify("070-123")


# -- OutboundPolicy and check ----------------------------------------------------------------


def test_default_policy_allows_ordinary_calls_and_blocks_premium() -> None:
    policy = OutboundPolicy()
    assert policy.max_concurrent_calls == 10
    for number in ("08-123 456 78", "070-123 45 67", "+44 20 7946 0000", "020-123 456"):
        assert check(policy, to_e164(number), 0).allowed, number
    assert check(policy, "+46771123456", 0).allowed
    premium = check(policy, to_e164("0900-123 45 67"), 0)
    assert premium == Decision(False, "premium-rate numbers are blocked", "premium", 403)
    assert not check(policy, "+449098790000", 0).allowed
    assert check(policy, "+881612345678", 0).cause == (
        "special numbers (personal, pager, satellite) are blocked"
    )


def test_allowed_call_says_what_it_is() -> None:
    assert check(OutboundPolicy(), "+46701234567", 3) == Decision(True, "", "mobile", 0)


def test_ceiling_of_concurrent_outbound_calls() -> None:
    policy = OutboundPolicy()
    assert check(policy, "+46812345678", 9).allowed
    full = check(policy, "+46812345678", 10)
    assert full == Decision(False, "too many outbound calls (10)", "national", 503)
    assert check(OutboundPolicy(max_concurrent_calls=2), "+46812345678", 2).cause == (
        "too many outbound calls (2)"
    )


def test_a_blocked_class_is_reported_before_the_ceiling() -> None:
    decision = check(OutboundPolicy(max_concurrent_calls=1), "+469001234567", 5)
    assert decision.cause == "premium-rate numbers are blocked"


@pytest.mark.parametrize("dialled", ["112", "+46 112", "11414", "1177"])
def test_emergency_is_never_refused(dialled: str) -> None:
    closed = OutboundPolicy(allowed=[], max_concurrent_calls=0)
    decision = check(closed, to_e164(dialled), 1000)
    assert decision == Decision(True, "", "emergency", 0)


def test_a_company_can_allow_premium_and_forbid_international() -> None:
    policy = OutboundPolicy(allowed=["national", "mobile", "premium"])
    assert check(policy, "+469001234567", 0).allowed
    assert check(policy, "+442079460000", 0) == Decision(
        False, "international calls are blocked", "international", 403
    )
    assert check(policy, "+4620123456", 0).cause == "toll-free numbers are blocked"
    assert check(policy, "+46771123456", 0).cause == "shared-cost numbers are blocked"
    assert check(OutboundPolicy(allowed=["national"]), "+46701234567", 0).cause == (
        "mobile numbers are blocked"
    )
    assert check(OutboundPolicy(allowed=["mobile"]), "+46812345678", 0).cause == (
        "national numbers are blocked"
    )


def test_emergency_class_is_always_in_the_policy() -> None:
    assert "emergency" in OutboundPolicy(allowed=["national"]).allowed


def test_check_refuses_a_number_that_is_not_valid() -> None:
    policy = OutboundPolicy()
    assert check(policy, "070-123", 0) == Decision(
        False, "'070-123' is too short to be a phone number", None, 484
    )
    assert check(policy, "+882 1234 5678", 0).status == 404


def test_policy_from_yaml_like_data_and_its_errors() -> None:
    policy = OutboundPolicy.model_validate(
        {"allowed": ["national", "mobile"], "max_concurrent_calls": 4}
    )
    assert policy.allowed == {"national", "mobile", "emergency"}
    with pytest.raises(ValidationError, match="unknown destination class 'premium-rate'"):
        OutboundPolicy(allowed=["national", "premium-rate"])
    with pytest.raises(ValidationError, match="not one string"):
        OutboundPolicy.model_validate({"allowed": "national"})
    with pytest.raises(ValidationError, match="max_concurrent_calls"):
        OutboundPolicy(max_concurrent_calls=-1)
    with pytest.raises(ValidationError, match="max_calls"):
        OutboundPolicy.model_validate({"max_calls": 3})
    with pytest.raises(ValidationError):
        policy.max_concurrent_calls = 20  # type: ignore[misc]


def test_policy_round_trips_through_json() -> None:
    policy = OutboundPolicy(allowed=["national", "premium"], max_concurrent_calls=3)
    assert OutboundPolicy.model_validate_json(policy.model_dump_json()) == policy


# -- caller ID (U8) -------------------------------------------------------------------------

MAIN = "+46812345600"
DIRECT = "+46812345678"
MOBILE = "+46701740605"
SUPPORT = "+46812345699"


@pytest.mark.parametrize(
    ("choice", "shown"),
    [("main", MAIN), ("direct", DIRECT), ("mobile", MOBILE), ("support", SUPPORT)],
)
def test_caller_id_shows_the_chosen_number(choice: str, shown: str) -> None:
    numbers = {"main": MAIN, "direct": DIRECT, "mobile": MOBILE, "support": SUPPORT}
    assert caller_id(choice, **numbers) == shown  # type: ignore[arg-type]
    assert caller_id(CallerIdChoice(show=choice), **numbers) == shown  # type: ignore[arg-type]


def test_caller_id_falls_back_to_main_when_the_chosen_number_is_not_set() -> None:
    assert caller_id("direct", main=MAIN) == MAIN
    assert caller_id("mobile", main=MAIN, direct=DIRECT) == MAIN
    assert caller_id("mobile", main=MAIN, mobile="") == MAIN
    assert caller_id("support", main=MAIN, mobile=MOBILE) == MAIN


def test_caller_id_rule_per_device() -> None:
    choice = CallerIdChoice(show="direct", per_device={"mobile": "mobile"})
    numbers = {"main": MAIN, "direct": DIRECT, "mobile": MOBILE}
    assert caller_id(choice, device="mobile", **numbers) == MOBILE
    assert caller_id(choice, device="softphone", **numbers) == DIRECT
    assert caller_id(choice, device="desk", **numbers) == DIRECT
    assert caller_id(choice, **numbers) == DIRECT


def test_caller_id_choice_errors_name_the_problem() -> None:
    assert CallerIdChoice().show == "main"
    with pytest.raises(ValidationError, match="unknown caller ID choice 'switchboard'"):
        CallerIdChoice(show="switchboard")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unknown device kind 'tablet'"):
        CallerIdChoice.model_validate({"per_device": {"tablet": "mobile"}})
    with pytest.raises(ValidationError, match="unknown caller ID choice 'mobil'"):
        CallerIdChoice.model_validate({"per_device": {"mobile": "mobil"}})
    with pytest.raises(ValidationError, match="unknown caller ID choice 'växel'"):
        caller_id("växel", main=MAIN)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="Extra inputs"):
        CallerIdChoice.model_validate({"show": "main", "hide": True})


def test_allowed_classes_are_written_in_one_order() -> None:
    """A stored description and its export say the same thing the same way every time."""
    policy = OutboundPolicy(allowed=frozenset({"mobile", "national", "international"}))
    assert policy.model_dump(mode="json")["allowed"] == [
        "emergency", "international", "mobile", "national"
    ]  # fmt: skip
