"""vaxel.randomness: identifiers from a page of kernel randomness, never repeated."""

from __future__ import annotations

import os

import pytest

from vaxel import randomness


def test_tokens_have_their_length_and_do_not_repeat() -> None:
    tokens = [randomness.token_hex(8) for _ in range(5000)]  # several pages
    assert all(len(token) == 16 and int(token, 16) >= 0 for token in tokens)
    assert len(set(tokens)) == len(tokens)


def test_a_token_larger_than_a_page() -> None:
    assert len(randomness.token_bytes(10_000)) == 10_000


def test_randbits_stays_within_its_bits_and_uses_them_all() -> None:
    values = [randomness.randbits(12) for _ in range(4000)]
    assert max(values) < 2**12
    assert max(values) > 2**11  # the top bit is set sometimes
    assert randomness.randbits(32) < 2**32


def test_randbelow_is_in_range_and_refuses_nothing_to_pick_from() -> None:
    values = {randomness.randbelow(3) for _ in range(300)}
    assert values == {0, 1, 2}
    with pytest.raises(ValueError):
        randomness.randbelow(0)


def test_a_forked_child_does_not_repeat_its_parents_values() -> None:
    randomness.token_hex(8)  # the parent holds a page it has started on
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.write(write, randomness.token_hex(8).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    assert child != randomness.token_hex(8)
