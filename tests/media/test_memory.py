"""media/memory: the in-memory media backend plays on the clock it is given and carries what a
party says to the other (P5)."""

from __future__ import annotations

import numpy as np

from vaxel.clock import FakeClock
from vaxel.media.memory import MemoryMedia
from vaxel.media.player import Player


def test_a_prompt_plays_frame_by_frame_and_says_when_it_is_done() -> None:
    media = MemoryMedia(FakeClock())
    endpoint = media.allocate(lambda digit: None)
    endpoint.sending = True
    done: list[bool] = []
    prompt = np.arange(400, dtype=np.int16)
    endpoint.play(Player([prompt]), lambda: done.append(True))
    media.tick()
    media.tick()
    assert not done
    media.tick()  # 400 samples: three frames, the last padded
    media.tick()
    assert done == [True]
    assert endpoint.audio()[:400].tolist() == prompt.tolist()


def test_what_a_party_says_reaches_the_other_and_the_listeners() -> None:
    media = MemoryMedia(FakeClock())
    a, b = media.allocate(lambda digit: None), media.allocate(lambda digit: None)
    keys: list[str] = []
    a.on_dtmf = keys.append
    heard: list[int] = []
    a.sinks.append(lambda samples: heard.append(len(samples)))
    media.connect(a, b)
    a.say(np.ones(320, np.int16))
    assert heard == [160, 160] and b.audio().tolist() == [1] * 320
    a.press("5")
    assert keys == ["5"] and a.telephone_events_seen
    media.disconnect(a)
    a.say(np.ones(160, np.int16))
    assert len(b.audio()) == 320
