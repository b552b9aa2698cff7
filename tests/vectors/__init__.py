"""Test vectors kept as files, loaded by one helper (the pyca/cryptography way)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).parent


def load_vector(*parts: str) -> bytes:
    """The raw bytes of tests/vectors/<parts...>, e.g. load_vector("rfc4475", "wsinv.dat")."""
    return VECTORS.joinpath(*parts).read_bytes()


def load_json(*parts: str) -> Any:
    """A JSON file under tests/vectors, such as an expected-outcome table."""
    return json.loads(load_vector(*parts))


def vector_names(*parts: str, suffix: str = ".dat") -> list[str]:
    """Sorted names (without suffix) of the vector files in one folder."""
    return sorted(p.name[: -len(suffix)] for p in VECTORS.joinpath(*parts).glob(f"*{suffix}"))
