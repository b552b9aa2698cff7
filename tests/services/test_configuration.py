"""S1-S6, S8, P6: a company described as YAML, applied whole or not at all (SQLite, PostgreSQL)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from vaxel.media.player import load_prompt
from vaxel.services.company_config import ConfigError
from vaxel.services.configuration import (
    apply_config,
    export_config,
    load_document,
    load_yaml,
    number_owner,
)
from vaxel.services.users import list_users
from vaxel.store import Store

ACME = """
company: {domain: acme.example, name: Acme AB}
users:
  - {ext: "1001", name: Anna, password: anna-secret-1}
  - {ext: "1002", name: Björn, password: bjorn-secret-2}
numbers:
  - {number: "08-123 456 00", flow: main}
prompts:
  welcome: {file: welcome.wav}
flows:
  main: {welcome: welcome, destination: {group: sales}}
groups:
  sales: {members: ["1001", "1002"]}
"""


def _tone(path: Path, seconds: float = 1.0) -> None:
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "2", str(path), "synth", str(seconds), "sine", "440"],
        check=True,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed (make test installs it)")
    _tone(tmp_path / "welcome.wav")
    return tmp_path


def test_apply_then_export_round_trips(store: Store, folder: Path) -> None:
    applied = apply_config(store, load_yaml(ACME), data=folder, source_dir=folder)
    assert applied.company_created and applied.users_added == ["1001", "1002"]
    assert number_owner(store, "+46812345600") is not None
    welcome = load_prompt(folder / "prompts" / "acme.example" / "welcome.wav")
    assert abs(len(welcome) / 8000 - 1.0) < 0.05  # converted to 8 kHz mono
    exported = export_config(store, "acme.example")
    assert "password" not in exported  # passwords are never stored or shown
    again = apply_config(store, load_yaml(exported), data=folder, source_dir=folder)
    assert (again.users_added, again.users_removed, again.version) == ([], [], 2)
    assert export_config(store, "acme.example") == exported


def test_every_error_has_its_path_and_nothing_changes(store: Store, folder: Path) -> None:
    apply_config(store, load_yaml(ACME), data=folder, source_dir=folder)
    bad = ACME.replace('members: ["1001", "1002"]', 'members: ["1001", "1009"]')
    bad = bad.replace("{group: sales}", "{group: salj}")
    with pytest.raises(ConfigError) as caught:
        apply_config(store, load_yaml(bad), data=folder, source_dir=folder)
    assert 'flows.main.destination: unknown group "salj"' in caught.value.errors
    assert 'groups.sales.members.1: unknown user "1009"' in caught.value.errors
    company = load_document(store, 1)
    assert company is not None and "sales" in company.groups  # the old description stands
    with pytest.raises(ConfigError) as caught:
        load_yaml("company: {domain: acme.example, name: Acme}\nmenus:\n  main: {keys: {}}")
    assert any(line.startswith("menus.main.prompt:") for line in caught.value.errors)


def test_a_bad_prompt_file_is_refused_and_the_old_prompt_stays(store: Store, folder: Path) -> None:
    apply_config(store, load_yaml(ACME), data=folder, source_dir=folder)
    prompt = folder / "prompts" / "acme.example" / "welcome.wav"
    before = prompt.read_bytes()
    (folder / "welcome.wav").write_text("this is not audio")
    with pytest.raises(ConfigError) as caught:
        apply_config(store, load_yaml(ACME), data=folder, source_dir=folder)
    assert caught.value.errors[0].startswith("prompts.welcome:")
    assert prompt.read_bytes() == before


def test_users_left_out_are_removed_and_numbers_belong_to_one_company(
    store: Store, folder: Path
) -> None:
    apply_config(store, load_yaml(ACME), data=folder, source_dir=folder)
    fewer = ACME.replace('  - {ext: "1002", name: Björn, password: bjorn-secret-2}\n', "")
    fewer = fewer.replace('["1001", "1002"]', '["1001"]')
    assert apply_config(store, load_yaml(fewer), data=folder, source_dir=folder).users_removed == [
        "1002"
    ]
    assert [u.extension for u in list_users(store, "acme.example")] == ["1001"]
    other = fewer.replace("acme.example", "other.example").replace("Acme AB", "Other AB")
    with pytest.raises(ConfigError) as caught:
        apply_config(store, load_yaml(other), data=folder, source_dir=folder)
    assert caught.value.errors == ["numbers.0.number: +46812345600 belongs to another company"]


def test_a_new_user_needs_a_password(store: Store, folder: Path) -> None:
    without = ACME.replace(", password: bjorn-secret-2", "")
    with pytest.raises(ConfigError) as caught:
        apply_config(store, load_yaml(without), data=folder, source_dir=folder)
    assert caught.value.errors == ["users.1.password: needed for the new user 1002"]
