"""S4: prompts generated from a script by text to speech, in Swedish and English."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from vaxel.media.player import RATE, PromptError, load_prompt
from vaxel.media.prompts import have_sox
from vaxel.media.tts import SpeechScript, have_espeak, synthesize, synthesize_script

needs_tools = pytest.mark.skipif(
    not (have_espeak() and have_sox()),
    reason="espeak-ng and sox are not installed (make test installs them)",
)

WELCOME = {
    "sv": "Välkommen till Acme. Vårt kontor har öppet vardagar mellan åtta och sjutton.",
    "en": "Welcome to Acme. Our office is open on weekdays from eight to five.",
}


def rms_dbfs(samples: np.ndarray) -> float:
    return 10 * np.log10(np.mean(samples.astype(float) ** 2) / 32768**2)


@needs_tools
@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_script_is_spoken_as_an_8k_mono_prompt_of_plausible_length(
    tmp_path: Path, language: str
) -> None:
    target = tmp_path / language / "welcome.wav"

    info = synthesize(WELCOME[language], language, target)  # type: ignore[arg-type]

    samples = load_prompt(target)  # 8 kHz mono 16-bit, or this raises
    assert info.source_format == "tts"
    assert info.seconds == pytest.approx(len(samples) / RATE)
    # About 12 words at 150 words a minute, plus pauses at the full stops.
    assert 3.0 < info.seconds < 9.0
    assert -30 < rms_dbfs(samples) < -6  # speech at a normal level, not silence or clipping


@needs_tools
def test_more_text_takes_longer_to_say(tmp_path: Path) -> None:
    short = synthesize("Hej.", "sv", tmp_path / "short.wav")
    long = synthesize(WELCOME["sv"], "sv", tmp_path / "long.wav")

    assert short.seconds < 1.5 < long.seconds


@needs_tools
def test_a_slower_voice_takes_longer(tmp_path: Path) -> None:
    normal = synthesize(WELCOME["en"], "en", tmp_path / "normal.wav")
    slow = synthesize(WELCOME["en"], "en", tmp_path / "slow.wav", words_per_minute=100)

    assert slow.seconds > normal.seconds * 1.2


@needs_tools
def test_text_that_looks_like_an_option_is_spoken(tmp_path: Path) -> None:
    info = synthesize("-5 grader och --help", "sv", tmp_path / "cold.wav")

    assert info.seconds > 0.5


@needs_tools
def test_a_named_voice_can_be_chosen(tmp_path: Path) -> None:
    info = synthesize("Välkommen.", "sv", tmp_path / "f.wav", voice="sv+f3")

    assert info.seconds > 0.3


@needs_tools
def test_an_unknown_voice_fails_and_leaves_the_old_prompt(tmp_path: Path) -> None:
    target = synthesize("Stängt.", "sv", tmp_path / "prompts" / "closed.wav").path
    before = target.read_bytes()

    with pytest.raises(PromptError, match=r"text to speech \(qqq\).*voice does not exist"):
        synthesize("Öppet.", "sv", target, voice="qqq")

    assert target.read_bytes() == before
    assert list(target.parent.iterdir()) == [target]  # no temporary files left


def test_empty_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="empty"):
        synthesize("   ", "sv", tmp_path / "x.wav")


def test_an_unknown_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="unknown language 'de'"):
        synthesize("Guten Tag", "de", tmp_path / "x.wav")  # type: ignore[arg-type]


def test_overlong_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="longer than 5000 characters"):
        synthesize("bla " * 2000, "sv", tmp_path / "x.wav")


def test_a_speech_script_from_configuration_is_checked() -> None:
    script = SpeechScript.model_validate({"text": "Vi har stängt.", "language": "sv"})
    assert (script.voice, script.words_per_minute) == (None, 150)
    with pytest.raises(ValidationError, match="blank"):
        SpeechScript(text="  ")
    with pytest.raises(ValidationError, match="language"):
        SpeechScript.model_validate({"text": "Hallo", "language": "de"})
    with pytest.raises(ValidationError, match="speed"):
        SpeechScript.model_validate({"text": "Hej", "speed": 150})
    with pytest.raises(ValidationError, match="bad espeak-ng voice name"):
        SpeechScript(text="Hej", voice="-x")


@needs_tools
def test_a_speech_script_is_spoken(tmp_path: Path) -> None:
    script = SpeechScript(text="We are closed.", language="en")

    info = synthesize_script(script, tmp_path / "closed.wav")

    assert 0.5 < info.seconds < 3
