"""Every company as the running switch sees it: descriptions, numbers, trunks (P1, S1, P6).

Built from the stored descriptions and kept current the way the credential
cache is: when the directory version moves (any `config apply`, any user
or setting changed, by whatever writer), everything is read again. A
company without a description (users added one by one) gets an empty one,
so its calls take the same path as any other's.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from vaxel.bus import Bus
from vaxel.services.company import Background, CompanyServices, Folders, Live, UserSettings
from vaxel.services.company_config import CompanyConfig, CompanySection, NumberConfig, TrunkConfig
from vaxel.services.configuration import load_all_documents, prompt_folder
from vaxel.store import READ_DIRECTORY_VERSION, Store
from vaxel.store.models import Company

log = logging.getLogger(__name__)

PROBE_INTERVAL = 0.05


class Directory:
    """The companies, their inbound numbers and their trunks, by what a call knows of them."""

    def __init__(
        self,
        store: Store,
        *,
        live: Live,
        background: Background,
        bus: Bus,
        data: Path,
        system_prompts: Path,
        clock: Callable[[], float] = time.time,
        schedule_clock: Callable[[], datetime] | None = None,
        reloaded: Callable[[Directory], None] = lambda directory: None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.live = live
        self.background = background
        self.bus = bus
        self.data = data
        self.system_prompts = system_prompts
        # The instant schedules are evaluated at: now, or a chosen day (VAXEL_SCHEDULE_NOW).
        self.schedule_clock = schedule_clock or (lambda: datetime.fromtimestamp(clock(), UTC))
        self.reloaded = reloaded  # told after every reload (trunk registrations follow)
        self._probe = store.change_probe()
        self._read_version = store.scalar_reader(READ_DIRECTORY_VERSION)
        self._probed: object = None
        self._next_probe = 0.0
        self._version = -1
        self.companies: dict[int, CompanyServices] = {}
        self.numbers: dict[str, tuple[int, NumberConfig]] = {}
        self.trunks: dict[tuple[str, int], tuple[int, str]] = {}
        # Each company's queues (callers waiting in line) outlive a reload of its description.
        self.queues: dict[int, dict[str, list[Any]]] = {}
        # ... and so do its conference rooms in use (A3).
        self.rooms: dict[int, dict[str, Any]] = {}
        # Each company's groups' latest handling times (A5: the queue's estimated wait).
        self.handled: dict[int, dict[str, deque[float]]] = {}
        # ... and its agents' wrap-ups (A5: extension -> until when).
        self.wrap_ups: dict[int, dict[str, float]] = {}
        # ... and its groups' arrivals and callbacks booked for a time (A18).
        self.arrivals: dict[int, dict[str, deque[float]]] = {}
        self.scheduled: dict[int, dict[str, list[Any]]] = {}
        # ... and its groups' memory of their calls (S8, A5: the distribution strategies).
        self.histories: dict[int, dict[str, Any]] = {}
        # ... and its users' settings, updated in place (A5: a waiting caller's group, made
        # before a reload, sees who logged in or paused since).
        self.settings: dict[int, UserSettings] = {}

    def invalidate(self) -> None:
        """Look for changes at the next lookup, not only after `PROBE_INTERVAL`: the web,
        in this process, calls it after each change it made, so the very next call sees
        it. (Another process's change, the CLI's, is seen within `PROBE_INTERVAL`.)
        Safe from any thread: it only moves a deadline."""
        self._next_probe = 0.0

    def refresh(self) -> None:
        """Reload if anything changed; the switch calls this now and then, so trunks
        register even before the first call."""
        now = self.clock()
        if now < self._next_probe:
            return
        self._next_probe = now + PROBE_INTERVAL
        probed = self._probe()
        if probed == self._probed:
            return
        self._probed = probed
        version = self._read_version()
        if version != self._version:
            self._version = version
            self._load()

    def _load(self) -> None:
        companies: dict[int, CompanyServices] = {}
        numbers: dict[str, tuple[int, NumberConfig]] = {}
        trunks: dict[tuple[str, int], tuple[int, str]] = {}
        settings = UserSettings.load_all(self.store)
        for company_id, domain, config in self._descriptions():
            kept = self.settings.setdefault(company_id, UserSettings())
            kept.update(settings.get(company_id) or UserSettings())
            companies[company_id] = self._company(company_id, domain, config, kept)
            for number in config.numbers:
                numbers[number.number] = (company_id, number)
            for name, trunk in config.trunks.items():
                trunks[(trunk.host, trunk.port)] = (company_id, name)
        self.companies, self.numbers, self.trunks = companies, numbers, trunks
        self.reloaded(self)

    def _descriptions(self) -> list[tuple[int, str, CompanyConfig]]:
        described = load_all_documents(self.store)
        known = {company_id for company_id, _, _ in described}
        with self.store.session(read_only=True) as session:
            rows = session.execute(select(Company.id, Company.domain, Company.name)).all()
        for company_id, domain, name in rows:
            if company_id not in known:
                section = CompanySection(domain=domain, name=name)
                described.append((company_id, domain, CompanyConfig(company=section)))
        return described

    def _company(
        self, company_id: int, domain: str, config: CompanyConfig, settings: UserSettings
    ) -> CompanyServices:
        return CompanyServices(
            self.store,
            company_id,
            domain,
            config,
            folders=Folders(
                prompts=prompt_folder(self.data, domain),
                system=self.system_prompts,
                voicemail=self.data / "voicemail",
            ),
            settings=settings,
            live=self.live,
            background=self.background,
            bus=self.bus,
            clock=self.schedule_clock,
            queues=self.queues.setdefault(company_id, {}),
            rooms=self.rooms.setdefault(company_id, {}),
            handled=self.handled.setdefault(company_id, {}),
            wrap_ups=self.wrap_ups.setdefault(company_id, {}),
            arrivals=self.arrivals.setdefault(company_id, {}),
            scheduled=self.scheduled.setdefault(company_id, {}),
            histories=self.histories.setdefault(company_id, {}),
        )

    def trunk_configs(self) -> dict[tuple[int, str], TrunkConfig]:
        """Every company's trunks: (company id, trunk name) -> its settings."""
        return {
            (company_id, name): trunk
            for company_id, company in self.companies.items()
            for name, trunk in company.config.trunks.items()
        }

    def trunk(self, company_id: int, name: str) -> TrunkConfig | None:
        company = self.companies.get(company_id)
        return None if company is None else company.config.trunks.get(name)

    # -- lookups ------------------------------------------------------------------------

    def company(self, company_id: int) -> CompanyServices | None:
        self.refresh()
        return self.companies.get(company_id)

    def by_number(self, number: str) -> tuple[CompanyServices, NumberConfig] | None:
        """The company and the number's entry for an inbound E.164 number."""
        self.refresh()
        entry = self.numbers.get(number)
        if entry is None:
            return None
        company = self.companies.get(entry[0])
        return None if company is None else (company, entry[1])

    def trunk_at(self, host: str, port: int) -> tuple[CompanyServices, str] | None:
        """The company whose trunk is at this address (by address, never by a name)."""
        self.refresh()
        entry = self.trunks.get((host, port))
        if entry is None:
            return None
        company = self.companies.get(entry[0])
        return None if company is None else (company, entry[1])
