"""vaxel.native: the compiled hot modules are used only when built from the current sources."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vaxel import native


def _manifest(build: Path, *, stale: str | None = None) -> None:
    """A build folder whose manifest names every module (files are empty stand-ins)."""
    modules = {}
    for module in native.MODULES:
        file = build / (module.replace(".", "/") + ".so")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"")
        sha = "0" * 64 if module == stale else native.digest(native.source_of(module))
        modules[module] = {"sha256": sha, "file": str(file.relative_to(build))}
    manifest = {"python": sys.implementation.cache_tag, "modules": modules, "runtime": {}}
    (build / native.MANIFEST).write_text(json.dumps(manifest))


def test_a_build_of_the_current_sources_is_used(tmp_path: Path) -> None:
    _manifest(tmp_path)
    files = native.current(tmp_path)
    assert files is not None and set(files) == set(native.MODULES)


def test_one_edited_source_makes_the_whole_build_unused(tmp_path: Path) -> None:
    _manifest(tmp_path, stale="vaxel.sip.message")
    assert native.current(tmp_path) is None


def test_a_build_for_another_python_or_module_list_is_unused(tmp_path: Path) -> None:
    _manifest(tmp_path)
    manifest = json.loads((tmp_path / native.MANIFEST).read_text())
    (tmp_path / native.MANIFEST).write_text(json.dumps({**manifest, "python": "cpython-27"}))
    assert native.current(tmp_path) is None
    del manifest["modules"]["vaxel.sip.uri"]
    (tmp_path / native.MANIFEST).write_text(json.dumps(manifest))
    assert native.current(tmp_path) is None
    assert native.current(tmp_path / "missing") is None


def _message_module_file(env: dict[str, str]) -> str:
    code = "import vaxel.sip.message as m; print(m.__file__)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@pytest.mark.skipif(native.current() is None, reason="no current native build (no compiler?)")
def test_the_switch_runs_compiled_unless_told_otherwise() -> None:
    env = {k: v for k, v in os.environ.items() if k != "VAXEL_PURE"}
    assert _message_module_file(env).endswith(".so")
    assert _message_module_file({**env, "VAXEL_PURE": "1"}).endswith(".py")
