"""Compile Vaxel's hot modules with mypyc into .build/native (see src/vaxel/native.py).

Run by `make run` and `make test`. Skips at once when the build is current.
Without a C compiler, Python's headers or mypyc it says so and leaves Vaxel
running from its Python sources (the same code, slower). When everything is
there and mypyc fails, the exit status is 1: a compiled module that no longer
compiles is an error to fix (an annotation mypyc rejects), not a silent
fall-back that makes the switch slower.

    .venv/bin/python tools/native.py [--force]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from vaxel.native import BUILD, MANIFEST, MODULES, SOURCE_ROOT, current, digest, source_of

# mypy's settings for the project ([tool.mypy]); named, so that where the copy is compiled
# does not decide which configuration mypyc finds.
CONFIG = SOURCE_ROOT.parent / "pyproject.toml"


def _can_compile() -> str | None:
    """Why we cannot compile here, or None."""
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        return "no C compiler (apt-get install gcc)"
    include = Path(sysconfig.get_paths()["include"])
    if not (include / "Python.h").exists():
        return f"no Python headers in {include} (apt-get install python3-dev)"
    try:
        import mypyc  # noqa: F401
    except ImportError:
        return "mypyc is not installed (pip install mypy)"
    return None


def build() -> None:
    BUILD.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD.parent, prefix="native-") as tmp:
        work = Path(tmp)
        # Compile a copy, so src/ never holds binaries that would shadow its sources.
        ignore = shutil.ignore_patterns("__pycache__", "*.so")
        shutil.copytree(SOURCE_ROOT / "vaxel", work / "vaxel", ignore=ignore)
        files = [str(source_of(module, work)) for module in MODULES]
        command = [sys.executable, "-m", "mypyc", "--config-file", str(CONFIG)]
        command += ["--ignore-missing-imports", *files]
        result = subprocess.run(command, cwd=work, capture_output=True, text=True)
        if result.returncode != 0:
            output = result.stdout + result.stderr
            errors = [line for line in output.splitlines() if ": error:" in line]
            raise RuntimeError("\n".join(errors[:20]) or output[-3000:].strip())
        out = work / "out"  # renamed to BUILD when complete
        modules: dict[str, dict[str, str]] = {}
        for module in MODULES:
            source = source_of(module, work)
            (compiled,) = source.parent.glob(source.stem + ".*.so")
            target = out / compiled.relative_to(work)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(compiled, target)
            modules[module] = {"sha256": digest(source), "file": str(target.relative_to(out))}
        runtime = {}
        for shared in work.glob("*__mypyc.*.so"):  # mypyc's runtime for the group
            shutil.copy2(shared, out / shared.name)
            runtime[shared.name.split(".")[0]] = shared.name
        manifest = {"python": sys.implementation.cache_tag, "modules": modules, "runtime": runtime}
        (out / MANIFEST).write_text(json.dumps(manifest, indent=1))
        if BUILD.exists():
            shutil.rmtree(BUILD)
        out.rename(BUILD)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="build even when current")
    args = parser.parse_args()
    if not args.force and current() is not None:
        return 0
    why = _can_compile()
    if why is not None:
        print(f"native: not compiling ({why}); Vaxel runs from its Python sources")
        return 0
    print(f"native: compiling {len(MODULES)} modules with mypyc into {BUILD} ...", flush=True)
    started = time.monotonic()
    try:
        build()
    except (RuntimeError, OSError, ValueError) as error:
        shutil.rmtree(BUILD, ignore_errors=True)
        print(f"native: compiling with mypyc failed:\n{error}", file=sys.stderr)
        print("native: a compiled module must compile; fix the error above", file=sys.stderr)
        return 1
    print(f"native: done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
