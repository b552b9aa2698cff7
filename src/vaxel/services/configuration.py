"""Applying and exporting a company's description (`vaxel config`; S1-S6, S8, P6, U7, U8, U11).

`apply_config` makes the database say what the file says, in one
transaction: the company, its users (created, updated, or removed when no
longer listed), its inbound numbers, and the rest as one JSON document. A
file with any error changes nothing. User passwords are turned into digest
HA1s and never stored or exported; the switch sees the change at once
(the directory version moves).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select, update

from vaxel.services.companies import normalize_domain, validate_name
from vaxel.services.company_config import CompanyConfig, ConfigError, parse_config
from vaxel.services.errors import NotFound
from vaxel.services.users import _ha1s, validate_password
from vaxel.store import Company, DirectoryVersion, Store, User
from vaxel.store.models import CompanyDocument, Number


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
    """The stored form: everything but user passwords (the users table has their HA1s)."""
    data = config.model_dump(mode="json", exclude_none=True, by_alias=True)
    for user in data.get("users", []):
        user.pop("password", None)
    return json.dumps(data, sort_keys=True)


def prompt_folder(data: Path, domain: str) -> Path:
    """Where a company's prompts live, as 8 kHz WAV files named after the prompt."""
    return data / "prompts" / domain


def render_prompts(config: CompanyConfig, folder: Path, source_dir: Path) -> list[str]:
    """Speak text prompts and convert file prompts into `folder`; returns the errors.

    A prompt whose text (or source file) did not change since the last apply is
    left as it is; a failing one keeps its old file (conversions replace atomically).
    """
    from vaxel.media.player import PromptError
    from vaxel.media.prompts import convert_upload
    from vaxel.media.tts import synthesize

    errors: list[str] = []
    folder.mkdir(parents=True, exist_ok=True)
    for name, prompt in config.prompts.items():
        target = folder / f"{name}.wav"
        stamp = folder / f"{name}.source"
        if prompt.text is not None:
            key = f"tts:{prompt.language}:{prompt.text}"
        else:
            source = source_dir / (prompt.file or "")
            try:
                key = f"file:{source.resolve()}:{source.stat().st_mtime_ns}"
            except OSError:
                errors.append(f"prompts.{name}.file: {source} not found")
                continue
        # Unchanged since it was made, or recorded by phone (*99) since: keep it.
        if target.exists() and stamp.exists() and stamp.read_text() in (key, f"phone|{key}"):
            continue
        try:
            if prompt.text is not None:
                synthesize(prompt.text, prompt.language, target)
            else:
                convert_upload(source_dir / (prompt.file or ""), target)
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
) -> Applied:
    """Make the company what `config` says. With `data`, prompts are made into its prompt
    folder first (file prompts are read relative to `source_dir`, the YAML file's folder)."""
    domain = normalize_domain(config.company.domain)
    name = validate_name(config.company.name)
    errors: list[str] = []
    if data is not None:
        errors += render_prompts(config, prompt_folder(data, domain), source_dir or Path.cwd())
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
        for i, number in enumerate(config.numbers):
            owner = owners.get(number.number)
            if owner is not None and owner != company.id:
                errors.append(f"numbers.{i}.number: {number.number} belongs to another company")
        if errors:
            raise ConfigError(errors)  # rolls the whole transaction back
        session.execute(delete(Number).where(Number.company_id == company.id))
        session.add_all(Number(number=n.number, company_id=company.id) for n in config.numbers)
        document = session.get(CompanyDocument, company.id)
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
    return Applied(created, added, updated, removed, len(config.numbers), version)


def load_document(store: Store, company_id: int) -> CompanyConfig | None:
    """A company's stored description (users as stored), or None if it never had one."""
    with store.session(read_only=True) as session:
        document = session.get(CompanyDocument, company_id)
        if document is None:
            return None
        data = json.loads(document.document)
    return CompanyConfig.model_validate(data)


def load_all_documents(store: Store) -> list[tuple[int, str, CompanyConfig]]:
    """Every company's description, for the switch: (company id, domain, description)."""
    query = select(Company.id, Company.domain, CompanyDocument.document).join(
        CompanyDocument, CompanyDocument.company_id == Company.id
    )
    with store.session(read_only=True) as session:
        rows = session.execute(query).all()
    return [
        (id_, domain, CompanyConfig.model_validate(json.loads(doc))) for id_, domain, doc in rows
    ]


def export_config(store: Store, domain: str) -> str:
    """The company's description as YAML: what `apply_config` would take back unchanged."""
    key = domain.strip().lower()
    with store.session(read_only=True) as session:
        company = session.scalar(select(Company).where(Company.domain == key))
        if company is None:
            raise NotFound(f'unknown company "{domain}"')
        document = session.get(CompanyDocument, company.id)
        data: dict[str, Any] = json.loads(document.document) if document else {}
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
    data["users"] = [
        {**described.get(ext, {}), "ext": ext, "name": name, "ring_time": ring}
        for ext, name, ring in users
    ]
    # Through the model again, so the file shows what was chosen, not every default.
    data = CompanyConfig.model_validate(data).model_dump(
        mode="json", exclude_defaults=True, by_alias=True
    )
    data["company"] = {"domain": data["company"]["domain"], "name": data["company"]["name"],
                       **data["company"]}  # fmt: skip
    order = ["company", "users", "numbers", "prompts", "flows", "menus", "schedules", "groups",
             "voicemail", "trunks", "outbound_trunk", "outbound", "mail"]  # fmt: skip
    ordered = {key: data[key] for key in order if key in data and data[key] not in ({}, [])}
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True)


def number_owner(store: Store, number: str) -> int | None:
    """The company an inbound E.164 number belongs to."""
    with store.read() as connection:
        return connection.execute(
            select(Number.company_id).where(Number.number == number)
        ).scalar_one_or_none()
