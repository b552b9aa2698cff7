"""tools/native.py: `make` stops when mypyc fails where it could compile, and goes on without
a compiler (the switch then runs from its Python sources)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from vaxel import native

TOOL = Path(__file__).resolve().parents[2] / "tools" / "native.py"
BUILT = native.current() is not None  # a real build of these sources exists


@pytest.fixture
def tool(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("native_tool", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", ["native.py"])
    monkeypatch.setattr(module, "current", lambda: None)  # as if nothing were built yet
    monkeypatch.setattr(module, "BUILD", tmp_path / "native")  # a failure removes BUILD
    return module


def test_a_mypyc_failure_with_a_compiler_present_fails_make(
    tool: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def build() -> None:
        raise RuntimeError("vaxel/sip/uri.py:10: error: Incompatible return value type")

    monkeypatch.setattr(tool, "_can_compile", lambda: None)
    monkeypatch.setattr(tool, "build", build)
    assert tool.main() == 1
    err = capsys.readouterr().err
    assert "vaxel/sip/uri.py:10: error: Incompatible return value type" in err
    assert native.current() is not None or not BUILT  # the real build was left alone


def test_without_a_compiler_it_says_so_and_goes_on(
    tool: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def build() -> None:
        raise AssertionError("nothing is compiled without a compiler")

    monkeypatch.setattr(tool, "_can_compile", lambda: "no C compiler (apt-get install gcc)")
    monkeypatch.setattr(tool, "build", build)
    assert tool.main() == 0
    out = capsys.readouterr().out
    assert "not compiling (no C compiler (apt-get install gcc))" in out
    assert "runs from its Python sources" in out
