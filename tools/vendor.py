"""Vendor the web's browser libraries from npm at build time (`make`): no CDN at run time.

Each package is fetched with `npm pack` at a pinned version (npm checks the tarball
against the registry's integrity hash), and only the files the pages use are copied into
`src/vaxel/web/static/vendor/<name>/` with the package's licence. A stamp records what
is there, so a second run does nothing and needs no network; the folder is not in git.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src" / "vaxel" / "web" / "static" / "vendor"

# name in the pages -> (npm package, version, files in the package)
PACKAGES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "htmx": ("htmx.org", "2.0.4", ("dist/htmx.min.js",)),
    "swagger-ui": ("swagger-ui-dist", "5.17.14", ("swagger-ui-bundle.js", "swagger-ui.css")),
    # Only the browser tests inject it (accessibility checks of the pages); never served in
    # a page.
    "axe-core": ("axe-core", "4.10.2", ("axe.min.js",)),
}


def _stamp(name: str) -> str:
    package, version, files = PACKAGES[name]
    return json.dumps({"package": package, "version": version, "files": files})


def vendor(name: str) -> bool:
    """Fetch one package unless it is already there; True if it was fetched."""
    package, version, files = PACKAGES[name]
    target = VENDOR / name
    stamp = target / ".vendored"
    if stamp.exists() and stamp.read_text() == _stamp(name):
        return False
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            ["npm", "pack", f"{package}@{version}", "--json", "--pack-destination", tmp],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"vendor: npm pack {package}@{version} failed:\n{result.stderr}")
        tarball = Path(tmp) / json.loads(result.stdout)[0]["filename"]
        staging = Path(tmp) / "staging"
        staging.mkdir()
        with tarfile.open(tarball) as archive:
            members = {m.name.removeprefix("package/"): m for m in archive.getmembers()}
            for wanted in (*files, "LICENSE"):
                member = members.get(wanted)
                if member is None or not member.isfile():
                    raise SystemExit(f"vendor: {package}@{version} has no {wanted}")
                source = archive.extractfile(member)
                assert source is not None
                (staging / Path(wanted).name).write_bytes(source.read())
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, target)
    stamp.write_text(_stamp(name))
    return True


def main() -> int:
    fetched = [name for name in PACKAGES if vendor(name)]
    if fetched:
        print(f"vendor: fetched {', '.join(fetched)} from npm into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
