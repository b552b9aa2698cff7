"""tools/vendor.py: a bundled library is made only of the packages pinned, at their versions
and integrity, as npm's lock file says after it checked the tarballs."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TOOL = Path(__file__).resolve().parents[2] / "tools" / "vendor.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vendor_tool", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["vendor_tool"] = module
    spec.loader.exec_module(module)
    return module


vendor = _tool()
JSSIP = vendor.BUNDLES["jssip"]


def lock_as_pinned() -> dict[str, object]:
    packages: dict[str, object] = {"": {"name": "tmp"}}
    for name, (version, integrity) in JSSIP.packages.items():
        packages[f"node_modules/{name}"] = {"version": version, "integrity": integrity}
    name, version, integrity = vendor.ESBUILD
    packages[f"node_modules/{name}"] = {"version": version, "integrity": integrity}
    packages["node_modules/@esbuild/linux-x64"] = {"version": version, "integrity": "any"}
    return {"packages": packages}


def test_a_lock_as_pinned_passes() -> None:
    assert vendor.locked(lock_as_pinned(), JSSIP) == []


def test_another_integrity_version_or_package_is_refused() -> None:
    lock = lock_as_pinned()
    changed = copy.deepcopy(lock)
    changed["packages"]["node_modules/jssip"]["integrity"] = "sha512-else"  # type: ignore[index]
    assert vendor.locked(changed, JSSIP) == ["jssip@3.13.8 sha512-else"]
    newer = copy.deepcopy(lock)
    newer["packages"]["node_modules/debug"]["version"] = "4.4.4"  # type: ignore[index]
    assert [w.split("@")[0] for w in vendor.locked(newer, JSSIP)] == ["debug"]
    extra = copy.deepcopy(lock)
    extra["packages"]["node_modules/left-pad"] = {"version": "1.0.0"}  # type: ignore[index]
    assert vendor.locked(extra, JSSIP) == ["left-pad (not pinned)"]
    missing = copy.deepcopy(lock)
    del missing["packages"]["node_modules/ms"]  # type: ignore[attr-defined]
    assert vendor.locked(missing, JSSIP) == ["ms (missing)"]
