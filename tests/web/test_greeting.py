"""My voicemail greeting through the API and the user web (U7): an upload checked by
decoding becomes the file the switch plays (`Company.greeting_path`), a bad file keeps the
old greeting, it plays back and is removed; the page says how to record it by phone."""

from __future__ import annotations

import io
import wave

import numpy as np

from tests.web.conftest import Web
from tests.web.pages import csrf_of, log_in, text_of
from vaxel.media.player import load_prompt
from vaxel.services.configuration import prompt_folder


def wav(seconds: float = 1.0, frequency: float = 440) -> bytes:
    t = np.arange(int(8000 * seconds)) / 8000
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes((8000 * np.sin(2 * np.pi * frequency * t)).astype("<i2").tobytes())
    return out.getvalue()


def test_an_uploaded_greeting_is_the_file_the_switch_plays(web: Web) -> None:
    kept = prompt_folder(web.data, "acme.example") / "greeting-1002.wav"
    with web.login("1002@acme.example") as bo:
        assert bo.get("/api/v1/me/greeting/audio").status_code == 404
        done = bo.post("/api/v1/me/greeting", files={"file": ("mine.wav", wav(), "audio/wav")})
        assert done.status_code == 200, done.text
        assert done.json() == {"own": True, "seconds": 1.0}
        first = kept.read_bytes()
        assert abs(len(load_prompt(kept)) - 8000) < 80  # 8 kHz, as the switch plays it
        bad = bo.post("/api/v1/me/greeting", files={"file": ("x.wav", b"not audio", "audio/wav")})
        assert bad.status_code == 422 and "not a WAV" in bad.json()["detail"]
        assert kept.read_bytes() == first  # the old greeting stays
        played = bo.get("/api/v1/me/greeting/audio")
        assert played.status_code == 200 and played.content == first
        assert bo.delete("/api/v1/me/greeting").status_code == 204
        assert not kept.exists()
    with web.login("1001@acme.example") as anna:
        log = anna.get("/api/v1/companies/acme.example/audit").json()["items"]
        assert anna.get("/api/v1/me/greeting/audio").status_code == 404  # not Bo's
    assert [e["action"] for e in log[:2]] == ["greeting.remove", "greeting.upload"]
    with web.login("provider@vaxel.test") as provider:
        assert provider.delete("/api/v1/me/greeting").status_code == 404


def test_the_voicemail_page_uploads_plays_and_removes_the_greeting(web: Web) -> None:
    kept = prompt_folder(web.data, "acme.example") / "greeting-1002.wav"
    with log_in(web, "1002@acme.example") as bo:
        page = bo.get("/me/voicemail").text
        shown = text_of(page)
        assert "Callers hear the standard greeting." in shown
        assert "call *98 and press 2" in shown
        csrf = csrf_of(page)
        bad = bo.post("/me/greeting", data={"csrf": csrf},
                      files={"file": ("x.mp3", b"\x00" * 100, "audio/mpeg")})  # fmt: skip
        assert bad.status_code == 422 and "The greeting was not changed" in text_of(bad.text)
        assert not kept.exists()
        done = bo.post("/me/greeting", data={"csrf": csrf},
                       files={"file": ("mine.wav", wav(), "audio/wav")})  # fmt: skip
        assert done.headers["location"] == "/me/voicemail?done=greeting_saved"
        page = bo.get("/me/voicemail").text
        assert 'src="/api/v1/me/greeting/audio"' in page and kept.exists()
        removed = bo.post("/me/greeting/remove", data={"csrf": csrf})
        assert removed.headers["location"] == "/me/voicemail?done=greeting_removed"
        assert not kept.exists()
        bo.cookies.set("vaxel_lang", "sv")
        assert "ring *98 och tryck 2" in text_of(bo.get("/me/voicemail").text)
