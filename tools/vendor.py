"""Vendor the web's browser libraries from npm at build time (`make`): no CDN at run time.

Each package is fetched with `npm pack` at a pinned version (npm checks the tarball
against the registry's integrity hash), and only the files the pages use are copied into
`src/vaxel/web/static/vendor/<name>/` with the package's licence. A stamp records what
is there, so a second run does nothing and needs no network; the folder is not in git.

A library published only as CommonJS modules (JsSIP: P2, U1, the SIP over WebSocket
client of browser softphones) is bundled for the browser instead: its packages and
everything they need are installed with `npm install` at pinned versions into a
temporary folder, each one's integrity (sha512, from the lock file npm writes after it
checked the tarballs) compared with the one pinned here, and esbuild (pinned too) makes
one script that sets a global (`JsSIP`). Nothing of the package's own install scripts
runs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
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
    # S9, A10: the charts of the statistics page (its UMD build sets `Chart`).
    "chartjs": ("chart.js", "4.5.1", ("dist/chart.umd.min.js",)),
}


@dataclass(frozen=True)
class Bundle:
    """A CommonJS library made into one browser script (`bundle`)."""

    entry: str  # the module bundled, under node_modules/
    global_name: str  # what the script sets on `window`
    output: str  # the script's file name
    licence: str  # the licence file, under node_modules/
    # Every package the bundle is made of: name -> (version, npm integrity).
    packages: dict[str, tuple[str, str]] = field(default_factory=dict)


# The bundler: a build tool only, never served.
ESBUILD = (
    "esbuild",
    "0.27.7",
    "sha512-IxpibTjyVnmrIQo5aqNpCgoACA/dTKLTlhMHihVHhdkxKy"
    "PO1uBBthumT0rdHmcsk9uMonIWS0m4FljWzILh3w==",
)

BUNDLES: dict[str, Bundle] = {
    # P2, U1: SIP over WebSocket (RFC 7118) in the browser; the tests drive it in Chromium.
    "jssip": Bundle(
        entry="jssip/lib/JsSIP.js",
        global_name="JsSIP",
        output="jssip.min.js",
        licence="jssip/LICENSE.md",
        packages={
            "jssip": (
                "3.13.8",
                "sha512-ErxEdy13vXR5izGo42fpXOU64UmC2VF7Shg4oYG7"
                "R2NzZF0FTPeYikffkIIQa9w+/11YvTlgezG1nSaycWYXPA==",
            ),
            "debug": (
                "4.4.3",
                "sha512-RGwwWnwQvkVfavKVt22FGLw+xYSdzARwm0ru6DhT"
                "VA3umU5hZc28V3kO4stgYryrTlLpuvgI9GiijltAjNbcqA==",
            ),
            "ms": (
                "2.1.3",
                "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXv"
                "cLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==",
            ),
            "events": (
                "3.3.0",
                "sha512-mQw+2fkQbALzQ7V0MY0IqdnXNOeTtP4r0lN9z7AA"
                "awCXgqea7bDii20AYrIBrFd/Hx0M2Ocz6S111CaFkUcb0Q==",
            ),
            "sdp-transform": (
                "2.15.0",
                "sha512-KrOH82c/W+GYQ0LHqtr3caRpM3ITglq3ljGUIb8L"
                "Tki7ByacJZ9z+piSGiwZDsRyhQbYBOBJgr2k6X4BZXi3Kw==",
            ),
        },
    ),
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
            licence = "LICENSE.md" if "LICENSE.md" in members else "LICENSE"
            for wanted in (*files, licence):
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


def _bundle_stamp(name: str) -> str:
    spec = BUNDLES[name]
    return json.dumps({"bundle": spec.entry, "packages": spec.packages, "esbuild": ESBUILD})


def locked(lock: dict[str, object], spec: Bundle) -> list[str]:
    """What in npm's lock file is not what `spec` pins (empty: all of it is): an unpinned
    package, another version, or another integrity."""
    wrong = []
    packages = lock.get("packages")
    assert isinstance(packages, dict)
    pinned = {**spec.packages, ESBUILD[0]: ESBUILD[1:]}
    for path, entry in packages.items():
        if not path:
            continue  # the temporary project itself
        name = path.removeprefix("node_modules/")
        if name.startswith("@esbuild/"):  # esbuild's binary for this machine: its version
            if entry.get("version") != ESBUILD[1]:
                wrong.append(f"{name}@{entry.get('version')}")
            continue
        if name not in pinned:
            wrong.append(f"{name} (not pinned)")
        elif (entry.get("version"), entry.get("integrity")) != pinned[name]:
            wrong.append(f"{name}@{entry.get('version')} {entry.get('integrity')}")
    wrong += [f"{name} (missing)" for name in pinned if f"node_modules/{name}" not in packages]
    return wrong


def bundle(name: str) -> bool:
    """Bundle one CommonJS library unless it is already there; True if it was made."""
    spec = BUNDLES[name]
    target = VENDOR / name
    stamp = target / ".vendored"
    if stamp.exists() and stamp.read_text() == _bundle_stamp(name):
        return False
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wanted = [f"{package}@{version}" for package, (version, _) in spec.packages.items()]
        (work / "package.json").write_text('{"private": true}')
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact",
             *wanted, f"{ESBUILD[0]}@{ESBUILD[1]}"],
            cwd=work, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise SystemExit(f"vendor: npm install for {name} failed:\n{result.stderr}")
        wrong = locked(json.loads((work / "package-lock.json").read_text()), spec)
        if wrong:
            raise SystemExit(f"vendor: {name}: not as pinned: {', '.join(wrong)}")
        staging = work / "staging"
        staging.mkdir()
        modules = work / "node_modules"
        result = subprocess.run(
            [str(modules / ".bin" / "esbuild"), str(modules / spec.entry), "--bundle",
             "--format=iife", f"--global-name={spec.global_name}", "--platform=browser",
             "--minify", f"--outfile={staging / spec.output}"],
            cwd=work, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise SystemExit(f"vendor: bundling {name} failed:\n{result.stderr}")
        shutil.copyfile(modules / spec.licence, staging / Path(spec.licence).name)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, target)
    stamp.write_text(_bundle_stamp(name))
    return True


def main() -> int:
    fetched = [name for name in PACKAGES if vendor(name)]
    fetched += [name for name in BUNDLES if bundle(name)]
    if fetched:
        print(f"vendor: fetched {', '.join(fetched)} from npm into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
