"""Compiled copies of the hot modules (O3: the SIP core, the B2BUA), used when current.

`tools/native.py` compiles the modules in `MODULES` with mypyc into
`.build/native/` next to `src/`, with a manifest of the sources' SHA-256.
`install()` (run when `vaxel` is imported) puts a finder in front of the
normal import system that loads those extension modules, but only when
every compiled source is unchanged: an edited module makes Vaxel run from
the Python sources until the next build, never from a stale binary. Without
a C compiler nothing is built and nothing changes. `VAXEL_PURE=1` turns the
compiled modules off.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from importlib.abc import MetaPathFinder
from pathlib import Path
from types import ModuleType

#: What is compiled: the modules every SIP message and every call goes through.
MODULES = (
    "vaxel.randomness",
    "vaxel.sip.uri",
    "vaxel.sip.headers",
    "vaxel.sip.message",
    "vaxel.sip.validate",
    "vaxel.sip.digest",
    "vaxel.sip.sdp",
    "vaxel.sip.events",
    "vaxel.sip.transaction",
    "vaxel.sip.dialog",
    "vaxel.calls.auth",
    "vaxel.calls.registrar",
    "vaxel.calls.router",
    "vaxel.calls.api",
    "vaxel.calls.session_timer",
    "vaxel.calls.legs",
    "vaxel.calls.b2bua",
    "vaxel.calls.signalling",
    "vaxel.calls.inbound",
    "vaxel.calls.switch",
    "vaxel.transport.udp",
    "vaxel.rtp.packet",
    "vaxel.rtp.rtcp",
    "vaxel.rtp.dtmf",
    "vaxel.media.endpoint",
    "vaxel.media.engine",
    "vaxel.features.ring_user",
)

SOURCE_ROOT = Path(__file__).resolve().parent.parent  # src/
BUILD = SOURCE_ROOT.parent / ".build" / "native"
MANIFEST = "manifest.json"


def source_of(module: str, root: Path = SOURCE_ROOT) -> Path:
    return root.joinpath(*module.split(".")).with_suffix(".py")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Finder(MetaPathFinder):
    """Finds the compiled modules of the manifest (and mypyc's shared runtime module)."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        file = self.files.get(fullname)
        if file is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(file))
        return importlib.util.spec_from_file_location(fullname, file, loader=loader)


def current(build: Path = BUILD) -> dict[str, Path] | None:
    """module -> extension file, when the build exists and every source is unchanged."""
    try:
        manifest = json.loads((build / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("python") != sys.implementation.cache_tag:
        return None
    if set(manifest.get("modules", {})) != set(MODULES):
        return None  # built for another list of modules
    files: dict[str, Path] = {}
    for module, entry in manifest.get("modules", {}).items():
        source = source_of(module)
        try:
            if digest(source) != entry["sha256"]:
                return None
        except OSError:
            return None
        files[module] = build / entry["file"]
    for module, file in manifest.get("runtime", {}).items():
        files[module] = build / file
    return files if all(path.exists() for path in files.values()) else None


def install() -> bool:
    """Use the compiled modules if they are current; True if they are in use."""
    if os.environ.get("VAXEL_PURE") or any(isinstance(f, _Finder) for f in sys.meta_path):
        return False
    files = current()
    if not files:
        return False
    sys.meta_path.insert(0, _Finder(files))
    return True


def in_use() -> bool:
    """Are the hot modules running compiled?"""
    message = sys.modules.get("vaxel.sip.message")
    return message is not None and not str(getattr(message, "__file__", "")).endswith(".py")
