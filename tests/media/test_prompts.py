"""S4: uploaded WAV, MP3, FLAC and OGG files become prompts the player accepts."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from vaxel.media.player import RATE, load_prompt
from vaxel.media.prompts import (
    ConversionOptions,
    PromptError,
    convert_upload,
    have_sox,
    sniff_format,
    sox_formats,
)

pytestmark = pytest.mark.skipif(
    not have_sox(), reason="sox is not installed (make test installs it)"
)


def write_wav(
    path: Path,
    seconds: float,
    *,
    rate: int = 44100,
    channels: int = 2,
    hz: float = 440.0,
    dbfs: float = -20.0,
    silence_before: float = 0.0,
    silence_after: float = 0.0,
) -> Path:
    """A tone (optionally framed by silence) as a 16-bit WAV, made without sox."""
    t = np.arange(int(seconds * rate)) / rate
    tone = np.sin(2 * np.pi * hz * t) * 32767 * 10 ** (dbfs / 20)
    mono = np.concatenate(
        [np.zeros(int(silence_before * rate)), tone, np.zeros(int(silence_after * rate))]
    )
    frames = np.repeat(mono[:, None], channels, axis=1).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames.tobytes())
    return path


def sox_encode(source: Path, target: Path) -> Path:
    """`source` encoded by sox in the format of `target`'s extension, or the test skipped."""
    kind = target.suffix[1:]
    if kind not in sox_formats():
        pytest.skip(f"this sox has no {kind} support (install libsox-fmt-all)")
    done = subprocess.run(["sox", str(source), str(target)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"this sox cannot write {kind}: {done.stderr.decode().strip()}")
    return target


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(float)))
    return float(np.argmax(spectrum)) * RATE / len(samples)


def peak_dbfs(samples: np.ndarray) -> float:
    return 20 * np.log10(np.abs(samples.astype(float)).max() / 32768)


@pytest.fixture
def old_prompt(tmp_path: Path) -> Path:
    """A prompt already in place, which a failed upload must leave alone."""
    folder = tmp_path / "prompts"
    folder.mkdir()
    return convert_upload(
        write_wav(tmp_path / "old.wav", 1.0, rate=8000, channels=1), folder / "closed.wav"
    ).path


def test_a_44k_stereo_wav_becomes_an_8k_mono_prompt_at_minus_3_dbfs(tmp_path: Path) -> None:
    source = write_wav(tmp_path / "greeting.wav", 2.0, rate=44100, channels=2, dbfs=-20)
    target = tmp_path / "acme" / "prompts" / "greeting.wav"  # folders are made as needed

    info = convert_upload(source, target)

    samples = load_prompt(target)
    assert info.path == target
    assert info.source_format == "wav"
    assert info.seconds == pytest.approx(2.0, abs=0.02)
    assert len(samples) / RATE == pytest.approx(info.seconds)
    assert peak_dbfs(samples) == pytest.approx(-3.0, abs=0.2)
    assert dominant_hz(samples) == pytest.approx(440, abs=2)
    with wave.open(str(target), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)


def test_leading_silence_is_trimmed_and_trailing_silence_kept(tmp_path: Path) -> None:
    source = write_wav(tmp_path / "slow.wav", 1.0, silence_before=1.5, silence_after=0.5)

    info = convert_upload(source, tmp_path / "out.wav")

    assert info.seconds == pytest.approx(1.5, abs=0.05)
    samples = load_prompt(info.path)
    assert np.abs(samples[:80]).max() > 1000  # the tone starts at once
    assert np.abs(samples[-800:]).max() < 50  # the pause at the end is still there


def test_leading_silence_can_be_kept(tmp_path: Path) -> None:
    source = write_wav(tmp_path / "slow.wav", 1.0, silence_before=1.0)

    info = convert_upload(
        source, tmp_path / "out.wav", options=ConversionOptions(trim_leading_silence=False)
    )

    assert info.seconds == pytest.approx(2.0, abs=0.02)


def test_an_mp3_upload_is_converted(tmp_path: Path) -> None:
    mp3 = sox_encode(write_wav(tmp_path / "src.wav", 1.5, hz=600), tmp_path / "music.mp3")

    info = convert_upload(mp3, tmp_path / "hold.wav")

    assert info.source_format == "mp3"
    assert info.seconds == pytest.approx(1.5, abs=0.1)  # MP3 frames pad a little
    assert dominant_hz(load_prompt(info.path)) == pytest.approx(600, abs=3)


def test_a_flac_upload_is_converted(tmp_path: Path) -> None:
    flac = sox_encode(write_wav(tmp_path / "src.wav", 1.0, rate=48000), tmp_path / "menu.flac")

    info = convert_upload(flac, tmp_path / "menu.wav")

    assert info.source_format == "flac"
    assert info.seconds == pytest.approx(1.0, abs=0.02)
    assert load_prompt(info.path).dtype == np.int16


def test_an_ogg_upload_is_converted(tmp_path: Path) -> None:
    ogg = sox_encode(write_wav(tmp_path / "src.wav", 1.0), tmp_path / "menu.ogg")

    info = convert_upload(ogg, tmp_path / "menu.wav")

    assert info.source_format == "ogg"
    assert info.seconds == pytest.approx(1.0, abs=0.05)


def test_the_format_comes_from_the_content_not_the_name(tmp_path: Path) -> None:
    """A web upload is often saved under a temporary name."""
    flac = sox_encode(write_wav(tmp_path / "src.wav", 1.0), tmp_path / "menu.flac")
    upload = flac.rename(tmp_path / "upload-7f3a.tmp")

    assert sniff_format(upload) == "flac"
    assert convert_upload(upload, tmp_path / "menu.wav").source_format == "flac"


def test_a_text_file_named_wav_is_refused_and_the_old_prompt_kept(
    tmp_path: Path, old_prompt: Path
) -> None:
    before = old_prompt.read_bytes()
    fake = tmp_path / "greeting.wav"
    fake.write_text("Hej! Det här är inte ljud.\n")

    with pytest.raises(PromptError, match="not a WAV, MP3, FLAC or OGG"):
        convert_upload(fake, old_prompt)

    assert old_prompt.read_bytes() == before
    assert list(old_prompt.parent.iterdir()) == [old_prompt]  # no temporary file left


def test_a_broken_wav_is_refused_and_the_old_prompt_kept(tmp_path: Path, old_prompt: Path) -> None:
    before = old_prompt.read_bytes()
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x24\x00\x00\x00WAVE" + b"\x00garbage" * 20)

    with pytest.raises(PromptError, match=r"upload broken\.wav"):
        convert_upload(broken, old_prompt)

    assert old_prompt.read_bytes() == before
    assert list(old_prompt.parent.iterdir()) == [old_prompt]


def test_an_empty_file_is_refused(tmp_path: Path, old_prompt: Path) -> None:
    empty = tmp_path / "empty.mp3"
    empty.touch()

    with pytest.raises(PromptError, match="empty"):
        convert_upload(empty, old_prompt)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="not found"):
        convert_upload(tmp_path / "nothing.wav", tmp_path / "out.wav")


def test_a_silent_file_is_refused(tmp_path: Path, old_prompt: Path) -> None:
    before = old_prompt.read_bytes()
    silent = write_wav(tmp_path / "silent.wav", 1.0, dbfs=-120)

    with pytest.raises(PromptError, match="silent"):
        convert_upload(silent, old_prompt)

    assert old_prompt.read_bytes() == before


def test_a_file_over_the_length_limit_is_refused(tmp_path: Path, old_prompt: Path) -> None:
    before = old_prompt.read_bytes()
    long = write_wav(tmp_path / "long.wav", 3.0, rate=8000, channels=1)

    with pytest.raises(PromptError, match="longer than the limit"):
        convert_upload(long, old_prompt, options=ConversionOptions(max_seconds=2))

    assert old_prompt.read_bytes() == before
    assert list(old_prompt.parent.iterdir()) == [old_prompt]


def test_the_default_limit_is_ten_minutes_at_minus_3_dbfs() -> None:
    options = ConversionOptions()
    assert (options.max_seconds, options.peak_dbfs) == (600, -3)
    assert options.trim_leading_silence and not options.trim_trailing_silence


def test_conversion_options_refuse_unknown_fields_and_bad_levels() -> None:
    with pytest.raises(ValidationError, match="max_second"):
        ConversionOptions.model_validate({"max_second": 60})
    with pytest.raises(ValidationError, match="peak_dbfs"):
        ConversionOptions(peak_dbfs=3)
