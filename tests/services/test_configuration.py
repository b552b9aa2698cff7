"""P7, O2: a company described as YAML, applied whole or not at all, exported without its
secrets and applied back unchanged (SQLite and PostgreSQL)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from vaxel.media.player import load_prompt
from vaxel.services import voicemail
from vaxel.services.company_config import ConfigError, parse_config
from vaxel.services.configuration import (
    apply_config,
    export_config,
    load_document,
    load_yaml,
    number_owner,
    prompt_folder,
)
from vaxel.services.users import list_users
from vaxel.services.voicemail import hash_pin, verify_pin
from vaxel.store import Store
from vaxel.store.models import CompanyDocument

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


def test_a_removed_users_messages_and_greeting_go_with_them(store: Store, folder: Path) -> None:
    """O2: a user given a removed user's extension later never hears their messages."""
    apply_config(store, load_yaml(ACME), data=folder, source_dir=folder)
    company_id = list_users(store, "acme.example")[0].company_id
    recordings = {}
    for box in ("1001", "1002"):
        recordings[box] = folder / f"message-{box}.wav"
        recordings[box].write_bytes(b"RIFF")
        voicemail.save_message(store, company_id, box, caller="+46701234567", caller_name="",
                               received_at=datetime.now(UTC), duration_seconds=3.0,
                               path=recordings[box])  # fmt: skip
    greeting = prompt_folder(folder, "acme.example") / "greeting-1002.wav"
    greeting.write_bytes(b"RIFF")
    fewer = ACME.replace('  - {ext: "1002", name: Björn, password: bjorn-secret-2}\n', "")
    apply_config(store, load_yaml(fewer.replace('["1001", "1002"]', '["1001"]')), data=folder,
                 source_dir=folder)  # fmt: skip
    assert [m.box for m in voicemail.list_messages(store, company_id, "1002")] == []
    assert not recordings["1002"].exists() and not greeting.exists()
    assert [m.box for m in voicemail.list_messages(store, company_id, "1001")] == ["1001"]
    assert recordings["1001"].exists()


def test_a_new_user_needs_a_password(store: Store, folder: Path) -> None:
    without = ACME.replace(", password: bjorn-secret-2", "")
    with pytest.raises(ConfigError) as caught:
        apply_config(store, load_yaml(without), data=folder, source_dir=folder)
    assert caught.value.errors == ["users.1.password: needed for the new user 1002"]


# -- secrets (O2): kept out of exports, kept across a round trip -----------------------------

SECRETS = """
company: {domain: acme.example, name: Acme AB}
users:
  - {ext: "1001", name: Anna, password: anna-secret-1, voicemail: {pin: "4711"}}
  - {ext: "1002", name: Björn, password: bjorn-secret-2}
numbers:
  - {number: "08-123 456 00", flow: main}
flows:
  main: {destination: {voicemail: "1001"}}
trunks:
  carrier: {host: 192.0.2.10, username: acme, password: trunk-secret-1,
            registration: {username: acme-reg, password: register-secret-2}}
mail: {host: 127.0.0.1, port: 587, starttls: true, username: vaxel, password: mail-secret-3}
"""
SECRET_VALUES = ("4711", "trunk-secret-1", "register-secret-2", "mail-secret-3")


def _stored(store: Store) -> str:
    with store.session(read_only=True) as session:
        return session.scalars(select(CompanyDocument.document)).one()


def test_export_never_prints_a_secret_and_pins_are_stored_hashed(store: Store) -> None:
    apply_config(store, load_yaml(SECRETS))
    exported = export_config(store, "acme.example")
    for secret in SECRET_VALUES:
        assert secret not in exported
    assert "pin" not in exported and "password" not in exported
    stored = _stored(store)
    assert '"4711"' not in stored  # hashed ...
    config = load_document(store, 1)
    assert config is not None
    pin = config.users[0].voicemail.pin
    assert pin is not None and verify_pin(pin, "4711") and not verify_pin(pin, "4712")
    # ... while the switch still has the trunk's passwords to answer the carrier's challenge.
    trunk = config.trunks["carrier"]
    assert trunk.password == "trunk-secret-1"
    assert trunk.registration is not None and trunk.registration.password == "register-secret-2"
    assert config.mail is not None and config.mail.password == "mail-secret-3"


def test_a_round_trip_keeps_the_stored_secrets(store: Store) -> None:
    apply_config(store, load_yaml(SECRETS))
    before = _stored(store)
    exported = export_config(store, "acme.example")
    apply_config(store, load_yaml(exported))
    assert _stored(store) == before  # the same document, hashed PIN and passwords included
    assert export_config(store, "acme.example") == exported


def test_a_changed_secret_replaces_the_stored_one(store: Store) -> None:
    apply_config(store, load_yaml(SECRETS))
    changed = SECRETS.replace('"4711"', '"8080"').replace("trunk-secret-1", "trunk-secret-9")
    apply_config(store, load_yaml(changed))
    config = load_document(store, 1)
    assert config is not None and config.users[0].voicemail.pin is not None
    assert verify_pin(config.users[0].voicemail.pin, "8080")
    assert not verify_pin(config.users[0].voicemail.pin, "4711")
    assert config.trunks["carrier"].password == "trunk-secret-9"


def test_null_clears_a_secret_and_a_new_username_needs_its_password(store: Store) -> None:
    apply_config(store, load_yaml(SECRETS))
    cleared = yaml.safe_load(export_config(store, "acme.example"))
    cleared["users"][0]["voicemail"] = {"pin": None}
    apply_config(store, parse_config(cleared))
    config = load_document(store, 1)
    assert config is not None and config.users[0].voicemail.pin is None
    renamed = yaml.safe_load(export_config(store, "acme.example"))
    renamed["trunks"]["carrier"]["registration"]["username"] = "acme-2"
    renamed["mail"]["username"] = "other"
    with pytest.raises(ConfigError) as caught:
        apply_config(store, parse_config(renamed))
    assert caught.value.errors == [
        "trunks.carrier.registration.password: needed, as the username changed",
        "mail.password: needed, as the username changed",
    ]


def test_a_new_trunk_registration_needs_its_password(store: Store) -> None:
    without = SECRETS.replace(", password: register-secret-2", "")
    with pytest.raises(ConfigError) as caught:
        apply_config(store, load_yaml(without))
    assert caught.value.errors == [
        "trunks.carrier.registration.password: needed (none is stored for this trunk)"
    ]


def test_a_pin_is_four_to_eight_digits_in_a_description(store: Store) -> None:
    stored_form = hash_pin("4711")
    for pin in ("12", "123456789", "12a4", stored_form):
        with pytest.raises(ConfigError) as caught:
            load_yaml(SECRETS.replace('"4711"', f'"{pin}"'))
        assert caught.value.errors == ["users.0.voicemail.pin: a PIN is 4 to 8 digits"]


# -- nothing is lost on the way (P7) ------------------------------------------------------------

EVERYTHING = """
company: {domain: acme.example, name: Acme AB, support_number: "08-123 456 99",
          voicemail_retention_days: 30}
users:
  - {ext: "1001", name: Anna, password: anna-secret-1, caller_id: {show: support}}
numbers:
  - {number: "08-123 456 00", flow: main}
flows:
  main: {schedule: office, destination: {user: "1001"}}
schedules:
  office: {weekly: {monday: ["08:00-17:00"]}, holidays: null}
voicemail:
  reception: {members: ["1001"], quota: {messages: 5, seconds: 300}}
devices: {mobile: ["Vaxel Mobile"], desk: [Yealink, snom]}
sms: {url_template: "https://sms.example/send?to={to}&text={text}"}
outbound: {allowed: [national, mobile, emergency]}
"""


def test_holidays_null_sms_and_devices_survive_apply_and_export(store: Store) -> None:
    apply_config(store, load_yaml(EVERYTHING))
    config = load_document(store, 1)
    assert config is not None
    assert config.schedules["office"].holidays is None  # holidays change nothing
    assert config.devices == {"mobile": ["Vaxel Mobile"], "desk": ["Yealink", "snom"]}
    exported = yaml.safe_load(export_config(store, "acme.example"))
    assert exported["schedules"]["office"]["holidays"] is None
    assert exported["devices"] == {"mobile": ["Vaxel Mobile"], "desk": ["Yealink", "snom"]}
    assert exported["sms"] == {"url_template": "https://sms.example/send?to={to}&text={text}"}
    assert exported["company"]["support_number"] == "+46812345699"
    assert exported["company"]["voicemail_retention_days"] == 30
    assert exported["voicemail"]["reception"]["quota"] == {"messages": 5, "seconds": 300}
    again = load_yaml(export_config(store, "acme.example"))
    assert again.schedules["office"].holidays is None


# -- prompt files stay inside the company's folder (O2) -----------------------------------------


def test_a_prompt_file_that_is_a_symlink_out_of_the_folder_is_refused(
    store: Store, folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.wav"
    _tone(outside)
    (folder / "welcome.wav").unlink()
    (folder / "welcome.wav").symlink_to(outside)
    with pytest.raises(ConfigError) as caught:
        apply_config(store, load_yaml(ACME), data=folder, source_dir=folder)
    assert caught.value.errors == [
        "prompts.welcome.file: welcome.wav leads outside the company's folder"
    ]
    assert not (folder / "prompts" / "acme.example" / "welcome.wav").exists()


def test_an_sms_gateways_key_is_not_exported_and_is_kept(store: Store) -> None:
    keyed = EVERYTHING.replace(
        'sms: {url_template: "https://sms.example/send?to={to}&text={text}"}',
        'sms: {url_template: "https://sms.example/send?to={to}&text={text}",'
        ' headers: {Authorization: "Bearer gateway-key-77"}}',
    )
    assert keyed != EVERYTHING
    apply_config(store, load_yaml(keyed))
    exported = export_config(store, "acme.example")
    assert "gateway-key-77" not in exported
    apply_config(store, load_yaml(exported))  # applied back: the key stays
    config = load_document(store, 1)
    assert config is not None and config.sms is not None
    assert config.sms.headers == {"Authorization": "Bearer gateway-key-77"}


def test_conference_pins_are_secrets_kept_across_a_round_trip(store: Store) -> None:
    """A3: a room's PINs are stored hashed, never exported, kept when left out, removed by
    null, replaced when given."""
    room = '  weekly: {extension: "800", pin: "2468", moderator_pin: "13579"}\n'
    rooms = SECRETS + "conferences:\n" + room
    apply_config(store, load_yaml(rooms))
    exported = export_config(store, "acme.example")
    assert "2468" not in exported and "13579" not in exported
    assert "2468" not in _stored(store) and "13579" not in _stored(store)
    before = _stored(store)
    apply_config(store, load_yaml(exported))
    assert _stored(store) == before
    config = load_document(store, 1)
    assert config is not None
    room = config.conferences["weekly"]
    assert room.pin is not None and verify_pin(room.pin, "2468")
    assert room.moderator_pin is not None and verify_pin(room.moderator_pin, "13579")
    changed = yaml.safe_load(exported)
    changed["conferences"]["weekly"].update({"pin": None, "moderator_pin": "8642"})
    apply_config(store, parse_config(changed))
    config = load_document(store, 1)
    assert config is not None
    room = config.conferences["weekly"]
    assert room.pin is None
    assert room.moderator_pin is not None and verify_pin(room.moderator_pin, "8642")
