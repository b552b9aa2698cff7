"""Text to speech for prompts read from a script ("manus"), Swedish and English (S4).

espeak-ng speaks the text to a WAV file, and the same sox conversion as
uploads (media/prompts.py) makes it an 8 kHz mono prompt at a normalised
level, written atomically. The text goes to espeak-ng as one argument after
`--`, never through a shell, so no text can be taken for an option.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vaxel.media.player import PromptError
from vaxel.media.prompts import ConversionOptions, PromptInfo, have_sox, run_tool, sox_to_prompt

__all__ = [
    "LANGUAGES",
    "Language",
    "SpeechScript",
    "have_espeak",
    "synthesize",
    "synthesize_script",
]

Language = Literal["sv", "en"]
LANGUAGES: tuple[Language, ...] = ("sv", "en")
VOICES: dict[str, str] = {"sv": "sv", "en": "en"}  # espeak-ng voice for each language
WORDS_PER_MINUTE = 150
MAX_CHARACTERS = 5000  # about six minutes of speech
ESPEAK_TIMEOUT = 60.0
# espeak-ng pads speech with silence (about 0.4 s at the end); trimmed, words said one after
# the other as separate prompts sound like one phrase.
_SPEECH = ConversionOptions(trim_leading_silence=True, trim_trailing_silence=True)


def have_espeak() -> bool:
    """Whether the `espeak-ng` program is on PATH."""
    return shutil.which("espeak-ng") is not None


def check_language(language: str) -> Language:
    """The language if it is one we speak; PromptError naming it otherwise."""
    if language not in LANGUAGES:
        raise PromptError(f"unknown language {language!r} (sv or en)")
    return language  # type: ignore[return-value]


def synthesize(
    text: str,
    language: Language,
    target: Path,
    *,
    voice: str | None = None,
    words_per_minute: int = WORDS_PER_MINUTE,
) -> PromptInfo:
    """Speak `text` into the prompt at `target` (8 kHz mono 16-bit WAV).

    `voice` is an espeak-ng voice name ("sv+f3", "en-us", ...) and defaults
    to the plain voice of `language`. Raises `PromptError` for empty or
    overlong text, an unknown language or voice, or a failing tool; the old
    `target` is then untouched.
    """
    target = Path(target)
    check_language(language)
    text = text.strip()
    if not text:
        raise PromptError("text to speech: the text is empty")
    if len(text) > MAX_CHARACTERS:
        raise PromptError(f"text to speech: longer than {MAX_CHARACTERS} characters")
    if not have_espeak():
        raise PromptError("text to speech: espeak-ng is not installed")
    if not have_sox():
        raise PromptError("text to speech: sox is not installed")
    voice = voice or VOICES[language]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".tts.") as work:
        spoken = Path(work) / "speech.wav"
        run_tool(
            ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-w", str(spoken), "--", text],
            timeout=ESPEAK_TIMEOUT,
            what=f"text to speech ({voice})",
        )
        seconds = sox_to_prompt(
            spoken, target, source_type="wav", options=_SPEECH, what="text to speech"
        )
    return PromptInfo(path=target, seconds=seconds, source_format="tts")


class SpeechScript(BaseModel):
    """A prompt read from a script by text to speech (a company's YAML can name one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=MAX_CHARACTERS)
    language: Language = "sv"
    voice: str | None = None
    words_per_minute: int = Field(default=WORDS_PER_MINUTE, ge=80, le=400)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the script text is blank")
        return text

    @field_validator("voice")
    @classmethod
    def _plain_voice(cls, voice: str | None) -> str | None:
        if voice is not None and (not voice or voice.startswith("-") or voice.strip() != voice):
            raise ValueError(f"bad espeak-ng voice name {voice!r}")
        return voice


def synthesize_script(script: SpeechScript, target: Path) -> PromptInfo:
    """`synthesize` for a script from configuration."""
    return synthesize(
        script.text,
        script.language,
        target,
        voice=script.voice,
        words_per_minute=script.words_per_minute,
    )
