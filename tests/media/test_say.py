"""S4: the system prompt set, and numbers, dates and digits said with it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from vaxel.media.player import RATE, PromptError, load_prompt
from vaxel.media.prompts import have_sox
from vaxel.media.say import (
    SYSTEM_PROMPTS,
    TONES,
    build_system_prompts,
    paths,
    say_datetime,
    say_digits,
    say_new_messages,
    say_number,
    say_ordinal,
    say_queue_position,
    say_until,
)
from vaxel.media.tts import have_espeak

needs_tools = pytest.mark.skipif(
    not (have_espeak() and have_sox()),
    reason="espeak-ng and sox are not installed (make test installs them)",
)


def spoken(names: list[str], lang: str) -> str:
    """What a caller hears: the texts of the prompts, in order."""
    return " ".join(SYSTEM_PROMPTS[name][lang] for name in names)


@pytest.mark.parametrize(
    ("n", "sv", "en"),
    [
        (0, "noll", "zero"),
        (1, "ett", "one"),
        (12, "tolv", "twelve"),
        (21, "tjugoett", "twenty-one"),
        (38, "trettioåtta", "thirty-eight"),
        (59, "femtionio", "fifty-nine"),
        (60, "sextio", "sixty"),
        (73, "sjuttio tre", "seventy three"),
        (99, "nittio nio", "ninety nine"),
        (100, "ett hundra", "one hundred"),
        (101, "ett hundra ett", "one hundred and one"),
        (221, "två hundra tjugoett", "two hundred and twenty-one"),
        (999, "nio hundra nittio nio", "nine hundred and ninety nine"),
        (1000, "ett tusen", "one thousand"),
        (1005, "ett tusen fem", "one thousand and five"),
        (1250, "ett tusen två hundra femtio", "one thousand two hundred and fifty"),
        (21000, "tjugoett tusen", "twenty-one thousand"),
        (
            345678,
            "tre hundra fyrtiofem tusen sex hundra sjuttio åtta",
            "three hundred and forty-five thousand six hundred and seventy eight",
        ),
    ],
)
def test_numbers_are_said_in_swedish_and_english(n: int, sv: str, en: str) -> None:
    assert spoken(say_number(n, "sv"), "sv") == sv
    assert spoken(say_number(n, "en"), "en") == en


def test_59_is_one_prompt_and_73_two() -> None:
    assert say_number(59, "sv") == ["num-59"]
    assert say_number(73, "en") == ["num-70", "num-3"]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_number_up_to_999999_uses_prompts_that_exist(lang: str) -> None:
    for n in [*range(2000), *range(2000, 1_000_000, 997), 999_999]:
        for name in say_number(n, lang):  # type: ignore[arg-type]
            assert lang in SYSTEM_PROMPTS[name], (n, name)


@pytest.mark.parametrize("n", [-1, 1_000_000])
def test_numbers_outside_the_range_are_refused(n: int) -> None:
    with pytest.raises(ValueError, match=f"0..999999, not {n}"):
        say_number(n, "sv")


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language 'se'"):
        say_number(3, "se")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("n", "sv", "en"),
    [
        (1, "första", "first"),
        (2, "andra", "second"),
        (3, "tredje", "third"),
        (11, "elfte", "eleventh"),
        (20, "tjugonde", "twentieth"),
        (21, "tjugo första", "twenty first"),
        (23, "tjugo tredje", "twenty third"),
        (30, "trettionde", "thirtieth"),
        (31, "trettio första", "thirty first"),
        (42, "fyrtio andra", "forty second"),
    ],
)
def test_ordinals(n: int, sv: str, en: str) -> None:
    assert spoken(say_ordinal(n, "sv"), "sv") == sv
    assert spoken(say_ordinal(n, "en"), "en") == en


@pytest.mark.parametrize("n", [0, 100])
def test_ordinals_outside_1_to_99_are_refused(n: int) -> None:
    with pytest.raises(ValueError, match=f"1..99, not {n}"):
        say_ordinal(n, "en")


@pytest.mark.parametrize(
    ("when", "sv", "en"),
    [
        (
            datetime(2025, 3, 3, 14, 25),
            "måndag den tredje mars klockan fjorton och tjugofem",
            "Monday the third of March at fourteen twenty-five",
        ),
        (
            datetime(2025, 3, 9, 14, 5),
            "söndag den nionde mars klockan fjorton och fem",
            "Sunday the ninth of March at fourteen oh five",
        ),
        (
            datetime(2024, 12, 31, 9, 0),
            "tisdag den trettio första december klockan nio",
            "Tuesday the thirty first of December at nine hundred",
        ),
        (
            datetime(2025, 6, 22, 0, 40),
            "söndag den tjugo andra juni klockan noll och fyrtio",
            "Sunday the twenty second of June at zero forty",
        ),
    ],
)
def test_a_voicemail_envelope_time(when: datetime, sv: str, en: str) -> None:
    assert spoken(say_datetime(when, "sv"), "sv") == sv
    assert spoken(say_datetime(when, "en"), "en") == en


NOW = datetime(2027, 1, 15, 9, 0)  # a Friday


@pytest.mark.parametrize(
    ("until", "sv", "en"),
    [
        (datetime(2027, 1, 15, 13, 0), "till klockan tretton", "until thirteen hundred"),
        (
            datetime(2027, 1, 15, 15, 30),
            "till klockan femton och trettio",
            "until fifteen thirty",
        ),
        (
            datetime(2027, 1, 16, 8, 0),
            "till i morgon klockan åtta",
            "until tomorrow at eight hundred",
        ),
        (datetime(2027, 1, 18, 8, 0), "till måndag klockan åtta", "until Monday at eight hundred"),
        (
            datetime(2027, 3, 1, 8, 0),
            "till måndag den första mars klockan åtta",
            "until Monday the first of March at eight hundred",
        ),
    ],
)
def test_when_a_diversion_ends(until: datetime, sv: str, en: str) -> None:
    """U9: the day is said only when it is not today; a weekday within the week."""
    assert spoken(say_until(until, NOW, "sv"), "sv") == sv
    assert spoken(say_until(until, NOW, "en"), "en") == en


def test_every_day_and_minute_of_a_leap_year_can_be_said() -> None:
    for offset in range(366):
        when = datetime(2024, 1, 1) + timedelta(days=offset, hours=offset % 24, minutes=offset % 60)
        for lang in ("sv", "en"):
            for name in say_datetime(when, lang):  # type: ignore[arg-type]
                assert lang in SYSTEM_PROMPTS[name], (when, name)


def test_digits_are_said_one_by_one() -> None:
    assert spoken(say_digits("070-123 45 67", "sv"), "sv") == (
        "noll sju noll ett två tre fyra fem sex sju"
    )
    assert say_digits("+46 8", "en") == ["plus", "num-4", "num-6", "num-8"]
    assert spoken(say_digits("*21#", "sv"), "sv") == "stjärna två ett fyrkant"
    assert say_digits("", "sv") == []


def test_letters_among_digits_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot say 'x'"):
        say_digits("070x", "sv")


def test_queue_position() -> None:
    assert spoken(say_queue_position(3, "sv"), "sv") == "Du är nummer tre i kön."
    assert spoken(say_queue_position(21, "en"), "en") == "You are number twenty-one in the queue."


def test_new_message_count() -> None:
    assert spoken(say_new_messages(1, "sv"), "sv") == "Du har ett nytt meddelande."
    assert spoken(say_new_messages(2, "sv"), "sv") == "Du har två nya meddelanden."
    assert spoken(say_new_messages(0, "en"), "en") == "You have no new messages."


def test_paths_follow_the_folder_layout(tmp_path: Path) -> None:
    assert paths(["num-3", "beep"], "sv", tmp_path) == [
        tmp_path / "sv" / "num-3.wav",
        tmp_path / "sv" / "beep.wav",
    ]


def test_the_system_prompt_set_is_complete() -> None:
    names = set(SYSTEM_PROMPTS)
    assert {f"num-{n}" for n in (*range(60), 70, 80, 90)} <= names
    assert {f"ord-{n}" for n in range(1, 21)} <= names
    assert {"hundred", "thousand", "you-are-number", "monday", "sunday", "january"} <= names
    assert {"vm-cannot-answer", "vm-message-menu", "vm-enter-pin"} <= names
    # A caller to a full box hears this, then goodbye (S6, U7).
    assert set(SYSTEM_PROMPTS["vm-box-full"]) == {"sv", "en"}
    assert "full" in SYSTEM_PROMPTS["vm-box-full"]["sv"]
    assert SYSTEM_PROMPTS["vm-greeting-generic"]["sv"].endswith("efter tonen.")
    assert {"beep", "silence-1s"} <= set(TONES)
    for name, texts in SYSTEM_PROMPTS.items():
        assert set(texts) <= {"sv", "en"} and texts, name
        assert all(text.strip() for text in texts.values()), name
        assert "/" not in name and " " not in name, name


@needs_tools
def test_build_makes_prompts_the_player_accepts(tmp_path: Path) -> None:
    names = ["num-21", "hundred", "ord-3", "vm-cannot-answer", "of", "beep", "silence-1s"]

    written = build_system_prompts(tmp_path, names=names)

    # "of" is English only; everything else in both languages.
    assert len(written) == 2 * len(names) - 1
    assert not (tmp_path / "sv" / "of.wav").exists()
    for path in written:
        assert len(load_prompt(path)) > 0
    assert set(written) == {
        *paths(names, "en", tmp_path),
        *paths([name for name in names if name != "of"], "sv", tmp_path),
    }
    words = load_prompt(tmp_path / "sv" / "num-21.wav")
    assert 0.3 < len(words) / RATE < 1.5  # one word, no long silences around it
    sentence = load_prompt(tmp_path / "en" / "vm-cannot-answer.wav")
    assert 2.0 < len(sentence) / RATE < 8.0


@needs_tools
def test_the_beep_and_silence_are_tones_not_speech(tmp_path: Path) -> None:
    build_system_prompts(tmp_path, ["sv"], names=["beep", "silence-1s"])

    beep = load_prompt(tmp_path / "sv" / "beep.wav")
    silence = load_prompt(tmp_path / "sv" / "silence-1s.wav")
    assert len(beep) / RATE == pytest.approx(0.4)
    spectrum = np.abs(np.fft.rfft(beep.astype(float)))
    assert np.argmax(spectrum) * RATE / len(beep) == pytest.approx(1000, abs=5)
    assert len(silence) == RATE
    assert not silence.any()


@needs_tools
def test_existing_prompts_are_kept_unless_forced(tmp_path: Path) -> None:
    first = build_system_prompts(tmp_path, ["en"], names=["num-7", "beep"])
    stamp = {path: path.stat().st_mtime_ns for path in first}

    assert build_system_prompts(tmp_path, ["en"], names=["num-7", "beep"]) == []
    assert {path: path.stat().st_mtime_ns for path in first} == stamp

    again = build_system_prompts(tmp_path, ["en"], names=["num-7", "beep"], force=True)
    assert sorted(again) == sorted(first)


@needs_tools
def test_a_reworded_prompt_is_spoken_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An upgrade that changes a prompt's words re-speaks that prompt, and only that one."""
    build_system_prompts(tmp_path, ["en"], names=["num-7", "vm-box-on"])
    before = (tmp_path / "en" / "vm-box-on.wav").read_bytes()
    reworded = {**SYSTEM_PROMPTS["vm-box-on"], "en": "Your voicemail is now switched on."}
    monkeypatch.setitem(SYSTEM_PROMPTS, "vm-box-on", reworded)

    again = build_system_prompts(tmp_path, ["en"], names=["num-7", "vm-box-on"])

    assert again == [tmp_path / "en" / "vm-box-on.wav"]
    assert (tmp_path / "en" / "vm-box-on.wav").read_bytes() != before
    assert build_system_prompts(tmp_path, ["en"], names=["num-7", "vm-box-on"]) == []


def test_an_unknown_prompt_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="unknown system prompt 'num-61'"):
        build_system_prompts(tmp_path, names=["num-61"])
    assert not any(tmp_path.iterdir())
