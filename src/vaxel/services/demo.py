"""The demo company `make run` starts with: four phones to try right away.

Passwords are random; they are written once to `<data>/demo-passwords.txt`
(readable by the owner only) so a later `vaxel serve --demo` can show them again
without resetting anything.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path

from vaxel.services.companies import add_company
from vaxel.services.errors import Conflict
from vaxel.services.users import add_user, list_users
from vaxel.store import Store

log = logging.getLogger(__name__)

DEMO_DOMAIN = "demo.vaxel.test"
DEMO_NAME = "Demo AB"
DEMO_USERS = (
    ("1001", "Anna Svensson"),
    ("1002", "Erik Lindqvist"),
    ("1003", "Sofia Bergström"),
    ("1004", "Lars Nyström"),
)
PASSWORDS_FILE = "demo-passwords.txt"
DEMO_MAIN_NUMBER = "08-123 456 00"

# What the demo company's main number does: dial it from a demo phone to try it.
DEMO_DESCRIPTION = {
    "company": {"domain": DEMO_DOMAIN, "name": DEMO_NAME, "language": "sv"},
    "users": [
        {"ext": ext, "name": name, **({"admin": True} if ext == "1001" else {})}
        for ext, name in DEMO_USERS
    ],
    "numbers": [{"number": DEMO_MAIN_NUMBER, "flow": "main"}],
    "prompts": {
        "welcome": {"text": "Välkommen till Demo AB.", "number": 1},
        "menu": {
            "text": "Tryck ett för försäljning, två för Lars, nio för att lämna ett meddelande.",
            "number": 2,
        },
        "closed": {"text": "Vi har stängt just nu. Lämna gärna ett meddelande.", "number": 3},
    },
    "flows": {
        "main": {
            "schedule": "office",
            "welcome": "welcome",
            "menu": "main",
            "closed": {"prompt": "closed", "destination": {"voicemail": "reception"}},
        }
    },
    "menus": {
        "main": {
            "prompt": "menu",
            "keys": {
                "1": {"group": "sales"},
                "2": {"user": "1004"},
                "9": {"voicemail": "reception"},
            },
            "default": {"voicemail": "reception"},
        }
    },
    "schedules": {
        "office": {
            "weekly": {
                day: ["08:00-17:00"]
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
            },
        }
    },
    "groups": {"sales": {"members": ["1002", "1003"], "strategy": "ring-all"}},
    "voicemail": {"reception": {"members": ["1001"]}},
}


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
    _describe(store, folder)
    demo_extensions = {ext for ext, _ in DEMO_USERS}
    return [(ext, pw) for ext, pw in sorted(passwords.items()) if ext in demo_extensions]


def _describe(store: Store, folder: Path) -> None:
    """Give the demo company its main number, menu, group and voicemail, once.

    Its prompts are spoken by espeak-ng; without it the demo still has its phones.
    """
    from vaxel.services.companies import get_company
    from vaxel.services.company_config import ConfigError, parse_config
    from vaxel.services.configuration import apply_config, load_document

    if load_document(store, get_company(store, DEMO_DOMAIN).id) is not None:
        return
    try:
        apply_config(store, parse_config(DEMO_DESCRIPTION), data=folder, source_dir=folder)
    except ConfigError as error:
        log.warning("the demo's main number is not set up: %s", error)


DEMO_PROVIDER = "admin@vaxel.test"
# (login, role) of the demo's web logins: the provider, the company's admin, a user.
DEMO_WEB = ((DEMO_PROVIDER, "provider"), (f"1001@{DEMO_DOMAIN}", "admin"),
            (f"1002@{DEMO_DOMAIN}", "user"))  # fmt: skip


def ensure_demo_web(store: Store, data_dir: Path) -> list[tuple[str, str, str]]:
    """The demo's web logins, made once: (role, login, password) to print.

    Their passwords are kept in the same owner-only file as the phones' (as `web:LOGIN`).
    """
    from vaxel.services.accounts import add_provider_admin, authenticate, set_user_account

    path = data_dir / PASSWORDS_FILE
    passwords = _read_passwords(path)
    made = False
    for login, _ in DEMO_WEB:
        if f"web:{login}" not in passwords:
            passwords[f"web:{login}"] = secrets.token_urlsafe(12)
            made = True
    if made:
        _write_passwords(path, passwords)
    shown = []
    for login, role in DEMO_WEB:
        password = passwords[f"web:{login}"]
        if authenticate(store, login, password) is None:
            if role == "provider":
                with contextlib.suppress(Conflict):
                    add_provider_admin(store, login, password)
            else:
                ext = login.split("@", 1)[0]
                set_user_account(store, DEMO_DOMAIN, ext, password=password, role=role)
        shown.append((role, login, password))
    return shown
