"""Unpredictable values for protocol identifiers (P2, O2), read from the kernel a page at a
time.

A call takes some 25 of them (tags, branches, Call-IDs, RTP SSRCs and
sequence numbers); a `getrandom()` system call for each cost more than the
rest of their making. The bytes are the kernel's CSPRNG all the same, and a
forked child starts with a fresh page, so no two processes share one.
"""

from __future__ import annotations

import os
import threading

_PAGE = 4096


class _Pool:
    __slots__ = ("data", "lock", "pos")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.data = b""
        self.pos = 0

    def take(self, n: int) -> bytes:
        with self.lock:
            pos = self.pos
            if pos + n > len(self.data):
                self.data, pos = os.urandom(max(_PAGE, n)), 0
            self.pos = pos + n
            return self.data[pos : pos + n]

    def forget(self) -> None:
        self.data, self.pos = b"", 0


_pool = _Pool()
os.register_at_fork(after_in_child=_pool.forget)


def token_bytes(nbytes: int) -> bytes:
    return _pool.take(nbytes)


def token_hex(nbytes: int) -> str:
    """`nbytes` random bytes as 2 * `nbytes` hex digits (as `secrets.token_hex`)."""
    return _pool.take(nbytes).hex()


def randbits(k: int) -> int:
    """A random integer of `k` bits (as `secrets.randbits`)."""
    nbytes = (k + 7) // 8
    return int.from_bytes(_pool.take(nbytes), "big") >> (nbytes * 8 - k)


def randbelow(n: int) -> int:
    """A random integer in [0, n), without modulo bias (as `secrets.randbelow`)."""
    if n <= 0:
        raise ValueError("randbelow needs a positive bound")
    k = n.bit_length()
    while True:
        value = randbits(k)
        if value < n:
            return value
