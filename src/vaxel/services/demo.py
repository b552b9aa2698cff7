"""The demo company `make run` starts with: four phones to try right away.

Passwords are random; they are written once to `<data>/demo-passwords.txt`
(readable by the owner only) so a later `vaxel serve --demo` can show them again
without resetting anything.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from vaxel.services.companies import add_company
from vaxel.services.errors import Conflict
from vaxel.services.users import add_user, list_users
from vaxel.store import Store

DEMO_DOMAIN = "demo.vaxel.test"
DEMO_NAME = "Demo AB"
DEMO_USERS = (
    ("1001", "Anna Svensson"),
    ("1002", "Erik Lindqvist"),
    ("1003", "Sofia Bergström"),
    ("1004", "Lars Nyström"),
)
PASSWORDS_FILE = "demo-passwords.txt"


def _read_passwords(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    pairs = (line.split(maxsplit=1) for line in text.splitlines() if line.strip())
    return {fields[0]: fields[1].strip() for fields in pairs if len(fields) == 2}


def _write_passwords(path: Path, passwords: dict[str, str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.writelines(f"{ext} {password}\n" for ext, password in sorted(passwords.items()))
    os.replace(tmp, path)


def ensure_demo(store: Store, data_dir: Path | None = None) -> list[tuple[str, str]]:
    """Create what is missing of the demo company; return the known (extension, password).

    Existing users keep their passwords; theirs are read back from the passwords
    file in `data_dir` (default: the store's data folder).
    """
    folder = data_dir if data_dir is not None else store.data_dir
    if folder is None:
        raise ValueError("ensure_demo needs a data folder for the demo passwords")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PASSWORDS_FILE
    passwords = _read_passwords(path)
    with contextlib.suppress(Conflict):
        add_company(store, DEMO_DOMAIN, DEMO_NAME)
    existing = {user.extension for user in list_users(store, DEMO_DOMAIN)}
    missing = [(ext, name) for ext, name in DEMO_USERS if ext not in existing]
    if missing:
        # The file is written before the users exist, so a crash cannot lose a password.
        for extension, _ in missing:
            passwords[extension] = secrets.token_urlsafe(12)
        _write_passwords(path, passwords)
        for extension, name in missing:
            with contextlib.suppress(Conflict):
                add_user(store, DEMO_DOMAIN, extension, name, passwords[extension])
    demo_extensions = {ext for ext, _ in DEMO_USERS}
    return [(ext, pw) for ext, pw in sorted(passwords.items()) if ext in demo_extensions]
