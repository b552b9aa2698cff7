"""Applying and exporting a company's description (P7, O2).

`apply_config` makes the database say what the file says, in one
transaction: the company, its users (created, updated, or removed when no
longer listed), its inbound numbers, and the rest as one JSON document. A
file with any error changes nothing. User passwords are turned into digest
HA1s and never stored or exported; the switch sees the change at once
(the directory version moves).

Secrets (company_config.SECRETS: voicemail and conference PINs, trunk and mail passwords, the SMS
gateway's headers) are never exported. So that an export applies back unchanged, a
description
that leaves a secret out keeps the stored one: a PIN by the user's extension (a
conference room's PINs by the room's name),
a trunk's or the mail server's password by its name while its username stays
the same (a new username needs its password). A secret written in the file
replaces the stored one; `pin: null` (or `password: null`) removes it. PINs are
stored hashed (voicemail.hash_pin); trunk and mail passwords as they are, since
the switch must answer a carrier's digest challenge and log in to the mail
server with them. Prompt files are read only from the description's own folder:
a symlink that leads out of it is refused.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select, update

from vaxel.services import number_ranges
from vaxel.services.companies import normalize_domain, validate_name
from vaxel.services.company_config import (
    STORED,
    CompanyConfig,
    ConfigError,
    MailConfig,
    PersonalVoicemail,
    TrunkConfig,
    parse_config,
    strip_secrets,
)
from vaxel.services.errors import NotFound, Stale
from vaxel.services.number_ranges import outside
from vaxel.services.users import _ha1s, validate_password
from vaxel.services.voicemail import hash_pin, is_pin_hash, verify_pin
from vaxel.store import Company, DirectoryVersion, Store, User
from vaxel.store.models import CompanyDocument, Number, VoicemailMessage


@dataclass(frozen=True, slots=True)
class Applied:
    """What `apply_config` changed, for the command line to report."""

    company_created: bool
    users_added: list[str]
    users_updated: list[str]
    users_removed: list[str]
    numbers: int
    version: int


def load_yaml(text: str) -> CompanyConfig:
    """Parse and validate a YAML description; ConfigError lists every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise ConfigError([f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    return parse_config(data)


def _document(config: CompanyConfig) -> str:
    """The stored form: everything but user passwords (the users table has their HA1s).

    Nothing is left out for being None: `holidays: null` ("holidays change nothing") is
    not the same as leaving holidays out (the default closes on public holidays).
    """
    data = config.model_dump(mode="json", by_alias=True)
    for user in data.get("users", []):
        user.pop("password", None)
    return json.dumps(data, sort_keys=True)


def keep_secrets(
    config: CompanyConfig, stored: CompanyConfig | None
) -> tuple[CompanyConfig, list[str]]:
    """`config` with the secrets it leaves out taken from `stored`, and PINs hashed.

    Returns the description to store and the errors (a secret that is needed but
    neither given nor stored). See the module's docstring for the rules.
    """
    errors: list[str] = []
    old_users = {user.ext: user for user in stored.users} if stored is not None else {}
    users = []
    for user in config.users:
        old = old_users.get(user.ext)
        pin = _kept_pin(user.voicemail, old.voicemail.pin if old is not None else None)
        voicemail = user.voicemail.model_copy(update={"pin": pin})
        users.append(user.model_copy(update={"voicemail": voicemail}))
    old_trunks = stored.trunks if stored is not None else {}
    trunks = {
        name: _kept_trunk(f"trunks.{name}", trunk, old_trunks.get(name), errors)
        for name, trunk in config.trunks.items()
    }
    mail = config.mail
    if mail is not None:
        mail = _kept_mail(mail, stored.mail if stored is not None else None, errors)
    sms = config.sms
    old_sms = stored.sms if stored is not None else None
    if sms is not None and "headers" not in sms.model_fields_set and old_sms is not None:
        sms = sms.model_copy(update={"headers": old_sms.headers})  # its key, kept
    kept = config.model_copy(update={"users": users, "trunks": trunks, "mail": mail, "sms": sms})
    kept = _kept_room_pins(kept, stored)
    return kept, errors


def _kept_room_pins(config: CompanyConfig, stored: CompanyConfig | None) -> CompanyConfig:
    """A3: each room's PINs as voicemail PINs are kept (`_kept_pin`), by the room's name."""
    old_rooms = stored.conferences if stored is not None else {}
    rooms = {}
    for name, room in config.conferences.items():
        old = old_rooms.get(name)
        update = {}
        for field in ("pin", "moderator_pin"):
            given = getattr(room, field) if field in room.model_fields_set else _LEFT_OUT
            update[field] = _kept_secret_pin(given, getattr(old, field, None))
        rooms[name] = room.model_copy(update=update)
    return config.model_copy(update={"conferences": rooms})


_LEFT_OUT = object()


def _kept_secret_pin(given: object, old: str | None) -> str | None:
    """A PIN as given (hashed), or the stored one when left out (`_LEFT_OUT`)."""
    if given is _LEFT_OUT:
        return old if old is None or is_pin_hash(old) else hash_pin(old)
    assert given is None or isinstance(given, str)
    if given is None or is_pin_hash(given):
        return given
    if old is not None and is_pin_hash(old) and verify_pin(old, given):
        return old
    return hash_pin(given)


def _kept_pin(voicemail: PersonalVoicemail, old: str | None) -> str | None:
    if "pin" not in voicemail.model_fields_set:  # the stored one (hashed if stored in clear)
        return old if old is None or is_pin_hash(old) else hash_pin(old)
    pin = voicemail.pin
    if pin is None or is_pin_hash(pin):
        return pin  # null: removed
    # The same PIN again keeps its hash, so applying one file twice stores the same thing.
    if old is not None and is_pin_hash(old) and verify_pin(old, pin):
        return old
    return hash_pin(pin)


def _kept_trunk(
    where: str, trunk: TrunkConfig, old: TrunkConfig | None, errors: list[str]
) -> TrunkConfig:
    update: dict[str, Any] = {}
    keep = "password" not in trunk.model_fields_set and trunk.username is not None
    if keep and old is not None and old.password is not None:
        if old.username == trunk.username:
            update["password"] = old.password
        else:
            errors.append(f"{where}.password: needed, as the username changed")
    registration = trunk.registration
    if registration is not None and registration.password is None:
        old_registration = old.registration if old is not None else None
        if "password" in registration.model_fields_set:
            errors.append(f"{where}.registration.password: needed to register")
        elif old_registration is None or old_registration.password is None:
            errors.append(f"{where}.registration.password: needed (none is stored for this trunk)")
        elif old_registration.username != registration.username:
            errors.append(f"{where}.registration.password: needed, as the username changed")
        else:
            password = old_registration.password
            update["registration"] = registration.model_copy(update={"password": password})
    return trunk.model_copy(update=update) if update else trunk


def _kept_mail(mail: MailConfig, old: MailConfig | None, errors: list[str]) -> MailConfig:
    if mail.username is None or mail.password is not None:
        return mail
    if "password" in mail.model_fields_set:
        errors.append("mail.password: needed with a username")
    elif old is None or old.password is None:
        errors.append("mail.password: needed with a username (none is stored)")
    elif old.username != mail.username:
        errors.append("mail.password: needed, as the username changed")
    else:
        return mail.model_copy(update={"password": old.password})
    return mail


def _stored(text: str) -> CompanyConfig:
    return CompanyConfig.model_validate(json.loads(text), context=STORED)


def prompt_folder(data: Path, domain: str) -> Path:
    """Where a company's prompts live, as 8 kHz WAV files named after the prompt."""
    return data / "prompts" / domain


def render_prompts(
    config: CompanyConfig, folder: Path, source_dir: Path, *, keep_made: bool = False
) -> list[str]:
    """Speak text prompts and convert file prompts into `folder`; returns the errors.

    A prompt whose text (or source file) did not change since the last apply is
    left as it is; a failing one keeps its old file (conversions replace atomically).
    With `keep_made` (a description sent through the API, whose file prompts were
    uploaded earlier), a file prompt already made is kept when no new source is there.
    """
    from vaxel.media.player import PromptError
    from vaxel.media.prompts import convert_upload
    from vaxel.media.tts import synthesize

    errors: list[str] = []
    folder.mkdir(parents=True, exist_ok=True)
    root = source_dir.resolve()
    for name, prompt in config.prompts.items():
        target = folder / f"{name}.wav"
        stamp = folder / f"{name}.source"
        source = root
        if prompt.text is not None:
            key = f"tts:{prompt.language}:{prompt.text}"
        else:
            # A plain name (the schema has no paths), but it may be a symlink: where it
            # really leads must be inside the folder, or any server file could be read.
            source = (root / (prompt.file or "")).resolve()
            if source == root or not source.is_relative_to(root):
                errors.append(
                    f"prompts.{name}.file: {prompt.file} leads outside the company's folder"
                )
                continue
            try:
                key = f"file:{source}:{source.stat().st_mtime_ns}"
            except OSError:
                if keep_made and target.exists():
                    continue
                errors.append(f"prompts.{name}.file: {source_dir / (prompt.file or '')} not found")
                continue
        # Unchanged since it was made, or recorded by phone (*99) since: keep it.
        if target.exists() and stamp.exists() and stamp.read_text() in (key, f"phone|{key}"):
            continue
        try:
            if prompt.text is not None:
                synthesize(prompt.text, prompt.language, target)
            else:
                convert_upload(source, target)
        except PromptError as exc:
            errors.append(f"prompts.{name}: {exc}")
            continue
        stamp.write_text(key)
    return errors


def keep_recording(folder: Path, name: str, recording: Path) -> None:
    """A prompt recorded by phone replaces the file, and stays until its description changes."""
    stamp = folder / f"{name}.source"
    key = stamp.read_text() if stamp.exists() else ""
    recording.replace(folder / f"{name}.wav")
    stamp.write_text(key if key.startswith("phone|") else f"phone|{key}")


def apply_config(
    store: Store,
    config: CompanyConfig,
    *,
    data: Path | None = None,
    source_dir: Path | None = None,
    expected_version: int | None = None,
    by_provider: bool = True,
) -> Applied:
    """Make the company what `config` says. With `data`, prompts are made into its prompt
    folder first (file prompts are read from `source_dir`, the YAML file's folder, and
    never from outside it). Secrets the description leaves out are kept (`keep_secrets`).

    `expected_version` (the API's If-Match) applies the change only to that version of
    the stored description, else Stale. A company admin (`by_provider=False`) cannot
    change what the provider sets (`PROVIDER_SECTIONS`): trunks and what they cost, and
    the servers the switch connects to.
    """
    domain = normalize_domain(config.company.domain)
    name = validate_name(config.company.name)
    # Stored as the companies table has them, so an export (which reads them there) agrees.
    company_section = config.company.model_copy(update={"domain": domain, "name": name})
    config = config.model_copy(update={"company": company_section})
    errors: list[str] = []
    if data is not None:
        errors += render_prompts(
            config,
            prompt_folder(data, domain),
            source_dir or Path.cwd(),
            keep_made=expected_version is not None,
        )
    for i, described in enumerate(config.users):
        if described.password is not None:
            try:
                validate_password(described.password)
            except Exception as exc:  # Invalid: say where
                errors.append(f"users.{i}.password: {exc}")
    if errors:
        raise ConfigError(errors)
    with store.session() as session:
        company = session.scalar(select(Company).where(Company.domain == domain))
        created = company is None
        if company is None:
            company = Company(domain=domain, name=name)
            session.add(company)
            session.flush()
        company.name = name
        existing = {
            user.extension: user
            for user in session.scalars(select(User).where(User.company_id == company.id))
        }
        added: list[str] = []
        updated: list[str] = []
        for i, wanted in enumerate(config.users):
            user = existing.pop(wanted.ext, None)
            if user is None:
                if wanted.password is None:
                    errors.append(f"users.{i}.password: needed for the new user {wanted.ext}")
                    continue
                md5, sha256 = _ha1s(wanted.ext, domain, wanted.password)
                session.add(
                    User(
                        company_id=company.id,
                        extension=wanted.ext,
                        display_name=wanted.name,
                        ha1_md5=md5,
                        ha1_sha256=sha256,
                        ring_seconds=wanted.ring_time,
                    )
                )
                added.append(wanted.ext)
                continue
            user.display_name, user.ring_seconds = wanted.name, wanted.ring_time
            if wanted.password is not None:
                user.ha1_md5, user.ha1_sha256 = _ha1s(wanted.ext, domain, wanted.password)
            updated.append(wanted.ext)
        removed = sorted(existing)
        for user in existing.values():
            session.delete(user)
        owners = dict(
            session.execute(
                select(Number.number, Number.company_id).where(
                    Number.number.in_([n.number for n in config.numbers])
                )
            ).all()
        )
        ranges = None if by_provider else number_ranges.ranges_of_in(session, company.id)
        for i, number in enumerate(config.numbers):
            owner = owners.get(number.number)
            if owner is not None and owner != company.id:
                errors.append(f"numbers.{i}.number: {number.number} belongs to another company")
            elif ranges is not None and owner is None and outside(ranges, number.number):
                errors.append(
                    f"numbers.{i}.number: {number.number} is not in your company's number"
                    " ranges; ask the service provider for it"
                )
        document = session.get(CompanyDocument, company.id)
        current = document.version if document is not None else 0
        if expected_version is not None and expected_version != current:
            raise Stale(
                f"the description changed since you read it (version {expected_version},"
                f" now {current}): read it again and redo your change"
            )
        stored = _stored(document.document) if document is not None else None
        if not by_provider:
            errors += provider_changes(config, stored)
        config, secret_errors = keep_secrets(config, stored)
        errors += secret_errors
        if errors:
            raise ConfigError(errors)  # rolls the whole transaction back
        left = _forget_boxes(session, company.id, [ext for ext in removed
                                                  if ext not in config.voicemail])  # fmt: skip
        session.execute(delete(Number).where(Number.company_id == company.id))
        session.add_all(Number(number=n.number, company_id=company.id) for n in config.numbers)
        version = 1 if document is None else document.version + 1
        if document is None:
            session.add(
                CompanyDocument(company_id=company.id, document=_document(config), version=1)
            )
        else:
            document.document, document.version = _document(config), version
        session.execute(
            update(DirectoryVersion)
            .where(DirectoryVersion.id == 1)
            .values(version=DirectoryVersion.version + 1)
        )
    for path in left:  # once the removal is stored
        path.unlink(missing_ok=True)
    if data is not None:
        for ext in removed:
            (prompt_folder(data, domain) / f"greeting-{ext}.wav").unlink(missing_ok=True)
    return Applied(created, added, updated, removed, len(config.numbers), version)


def _forget_boxes(session, company_id: int, boxes: list[str]) -> list[Path]:  # type: ignore[no-untyped-def]
    """Delete the messages of removed users' own boxes, so that a user given one of their
    extensions later never hears them; returns the recordings' files, to unlink."""
    if not boxes:
        return []
    rows = session.scalars(
        select(VoicemailMessage).where(
            VoicemailMessage.company_id == company_id, VoicemailMessage.box.in_(boxes)
        )
    ).all()
    for row in rows:
        session.delete(row)
    return [Path(row.path) for row in rows]


def load_document(store: Store, company_id: int) -> CompanyConfig | None:
    """A company's stored description (users as stored), or None if it never had one."""
    with store.session(read_only=True) as session:
        document = session.get(CompanyDocument, company_id)
        if document is None:
            return None
        text = document.document
    return _stored(text)


def load_all_documents(store: Store) -> list[tuple[int, str, CompanyConfig]]:
    """Every company's description, for the switch: (company id, domain, description)."""
    query = select(Company.id, Company.domain, CompanyDocument.document).join(
        CompanyDocument, CompanyDocument.company_id == Company.id
    )
    with store.session(read_only=True) as session:
        rows = session.execute(query).all()
    return [(id_, domain, _stored(doc)) for id_, domain, doc in rows]


EXPORT_HEADER = (
    "# Secrets (voicemail PINs, the trunks' and the mail server's credentials) are left\n"
    "# out. Applied back, this file keeps the stored ones; write one to change it (null\n"
    "# removes a PIN).\n"
)


def export_config(store: Store, domain: str) -> str:
    """The company's description as YAML: what `apply_config` would take back unchanged,
    without its secrets (see the module's docstring: applied back, they are kept)."""
    data, _ = export_data(store, domain)
    return EXPORT_HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def export_data(store: Store, domain: str) -> tuple[dict[str, Any], int]:
    """The description as `export_config` prints it, as data, and its stored version
    (0 before the first apply): the API's body and ETag.

    Kept until the directory version moves (any change to a description, a company or a
    user moves it), since building it validates the whole description: tens of
    milliseconds for a company of a thousand users, asked for by every read of the API.
    The data is shared: copy it before changing it.
    """
    key = domain.strip().lower()
    with store.read() as connection:
        directory = connection.execute(select(DirectoryVersion.version)).scalar()
    memo_key = ("export", key)
    kept = store.memo.get(memo_key)
    if isinstance(kept, tuple) and kept[0] == directory:
        return kept[1], kept[2]
    data, version = _export_data(store, key, domain)
    store.memo[memo_key] = (directory, data, version)
    return data, version


def _export_data(store: Store, key: str, domain: str) -> tuple[dict[str, Any], int]:
    with store.session(read_only=True) as session:
        company = session.scalar(select(Company).where(Company.domain == key))
        if company is None:
            raise NotFound(f'unknown company "{domain}"')
        document = session.get(CompanyDocument, company.id)
        data: dict[str, Any] = json.loads(document.document) if document else {}
        version = document.version if document else 0
        users = [
            (user.extension, user.display_name, user.ring_seconds)
            for user in session.scalars(
                select(User).where(User.company_id == company.id).order_by(User.extension)
            )
        ]
        data["company"] = {
            **data.get("company", {}),
            "domain": company.domain,
            "name": company.name,
        }
    described = {user["ext"]: user for user in data.get("users", [])}
    # In the description's order; users added since (by `vaxel user add`) come last.
    place = {ext: i for i, ext in enumerate(described)}
    users.sort(key=lambda user: (place.get(user[0], len(place)), user[0]))
    data["users"] = [
        {**described.get(ext, {}), "ext": ext, "name": name, "ring_time": ring}
        for ext, name, ring in users
    ]
    # Through the model again, so the file shows what was chosen, not every default.
    config = CompanyConfig.model_validate(data, context=STORED)
    data = strip_secrets(config.model_dump(mode="json", exclude_defaults=True, by_alias=True))
    data["company"] = {"domain": data["company"]["domain"], "name": data["company"]["name"],
                       **data["company"]}  # fmt: skip
    order = ["company", "users", "numbers", "prompts", "flows", "menus", "schedules", "groups",
             "voicemail", "trunks", "outbound_trunk", "outbound", "mail", "sms",
             "devices"]  # fmt: skip
    # Every other section too, after these: an export leaves nothing out.
    order += sorted(key for key in data if key not in order)
    ordered = {key: data[key] for key in order if key in data and data[key] not in ({}, [])}
    return ordered, version


def entry_tag(entry: Mapping[str, Any]) -> str:
    """An ETag for one entry of a description (a user as exported): it changes when the
    entry does, so an edit made from an old read is refused instead of overwriting."""
    text = json.dumps(entry, sort_keys=True)
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:20] + '"'


def change_config(
    store: Store,
    domain: str,
    change: Callable[[dict[str, Any]], None],
    *,
    data: Path,
    source_dir: Path,
    by_provider: bool,
    attempts: int = 3,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Change one part of a company's description (a user, a menu ...) and apply the whole.

    `change` edits the exported description in place; the result is validated and applied
    as `config apply` would, so a part changed through the API meets the same checks and
    errors, with the same paths. When another change lands in between, the read and the
    edit are redone (up to `attempts` times). Returns the description before and after.
    """
    for attempt in range(attempts):
        before, version = export_data(store, domain)
        edited = copy.deepcopy(before)
        change(edited)
        config = parse_config(edited)
        try:
            apply_config(
                store,
                config,
                data=data,
                source_dir=source_dir,
                expected_version=version,
                by_provider=by_provider,
            )
        except Stale:
            if attempt == attempts - 1:
                raise
            continue
        return before, export_data(store, domain)[0]
    raise AssertionError("unreachable")


#: What the service provider sets for a company and its admin cannot change (P1, O2):
#: the trunks and the outbound policy (what calls may cost), and the mail and SMS
#: servers the switch connects to (no company admin points the switch at a host).
PROVIDER_SECTIONS = ("trunks", "outbound_trunk", "outbound", "mail", "sms")


_EMPTY = CompanyConfig.model_validate({"company": {"domain": "example.invalid", "name": "-"}})


def provider_changes(config: CompanyConfig, stored: CompanyConfig | None) -> list[str]:
    """The provider's sections that `config` changes, as errors for a company admin."""
    errors = []
    for section in PROVIDER_SECTIONS:
        wanted = strip_secrets(config.model_dump(mode="json", include={section}))
        was = stored if stored is not None else _EMPTY
        before = strip_secrets(was.model_dump(mode="json", include={section}))
        if wanted != before:
            errors.append(f"{section}: set by the service provider; leave it as it is")
    return errors


def number_owner(store: Store, number: str) -> int | None:
    """The company an inbound E.164 number belongs to."""
    with store.read() as connection:
        return connection.execute(
            select(Number.company_id).where(Number.number == number)
        ).scalar_one_or_none()
