"""The companies as the switch's call flows see them: descriptions, numbers, trunks (issue 4).

Built from the stored descriptions and kept current the way the credential
cache is: when the directory version moves (any `config apply`, any user
change), everything is read again. Each company becomes a
`features.context.Company` whose callbacks reach the router, the voicemail
store, the trunks and the calls in progress.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vaxel.calls.api import NOT_FOUND
from vaxel.calls.router import Route, Router, Target
from vaxel.features.context import Company
from vaxel.services import presence_settings, voicemail
from vaxel.services.company_config import CompanyConfig, NumberConfig, TrunkConfig
from vaxel.services.configuration import keep_recording, load_all_documents, prompt_folder
from vaxel.services.users import SipUser
from vaxel.store import READ_DIRECTORY_VERSION, Store
from vaxel.transport.base import Source

log = logging.getLogger(__name__)

PROBE_INTERVAL = 0.05


class CompanyDirectory:
    def __init__(
        self,
        store: Store,
        router: Router,
        users: Callable[[str, str], SipUser | None],
        *,
        data: Path,
        system_prompts: Path,
        clock: Callable[[], float] = time.time,
        schedule_clock: Callable[[], datetime] | None = None,
        extend: Callable[[Company], None] = lambda company: None,
        reloaded: Callable[[CompanyDirectory], None] = lambda directory: None,
    ) -> None:
        self.store = store
        self.router = router
        self.users = users
        self.data = data
        self.system_prompts = system_prompts
        self.clock = clock
        # The instant schedules are evaluated at: now, or a chosen day (VAXEL_SCHEDULE_NOW).
        self.schedule_clock = schedule_clock or (lambda: datetime.fromtimestamp(clock(), UTC))
        self.extend = extend  # the switch adds its callbacks (busy, voicemail, trunks ...)
        self.reloaded = reloaded  # told after every reload (trunk registrations follow)
        self._probe = store.change_probe()
        self._read_version = store.scalar_reader(READ_DIRECTORY_VERSION)
        self._probed: object = None
        self._next_probe = 0.0
        self._version = -1
        self.companies: dict[int, Company] = {}
        self.numbers: dict[str, tuple[int, NumberConfig]] = {}
        self.trunks: dict[tuple[str, int], tuple[int, str]] = {}
        # Each company's queues (callers waiting in line) outlive a reload of its description.
        self.queues: dict[int, dict[str, list[Any]]] = {}

    def refresh(self) -> None:
        """Reload if anything changed; the switch calls this now and then, so trunks
        register even before the first call."""
        self._fresh()

    def _fresh(self) -> None:
        now = time.monotonic()
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
        companies: dict[int, Company] = {}
        numbers: dict[str, tuple[int, NumberConfig]] = {}
        trunks: dict[tuple[str, int], tuple[int, str]] = {}
        for company_id, domain, config in load_all_documents(self.store):
            company = self._company(company_id, domain, config)
            companies[company_id] = company
            for number in config.numbers:
                numbers[number.number] = (company_id, number)
            for name, trunk in config.trunks.items():
                trunks[(trunk.host, trunk.port)] = (company_id, name)
        self.companies, self.numbers, self.trunks = companies, numbers, trunks
        self.reloaded(self)

    def trunk_configs(self) -> dict[tuple[int, str], TrunkConfig]:
        """Every company's trunks: (company id, trunk name) -> its settings."""
        return {
            (company_id, name): trunk
            for company_id, company in self.companies.items()
            for name, trunk in company.config.trunks.items()
        }

    def _company(self, company_id: int, domain: str, config: CompanyConfig) -> Company:
        def devices(ext: str) -> Route:
            user = self.users(domain, ext)
            if user is None:
                return Route(ext, refusal=NOT_FOUND)
            return self.router.devices(user, self.clock())

        def voicemail_path(box: str) -> Path:
            return voicemail.new_path(self.data / "voicemail", company_id, box)

        def trunk_target(number: str, caller_id: str | None) -> Target | None:
            name = config.outbound_trunk or next(iter(config.trunks), None)
            if name is None:
                return None
            trunk = config.trunks[name]
            host = trunk.domain or trunk.host
            main = next((n.number for n in config.numbers if n.flow is not None), None)
            credentials = None
            if trunk.username and trunk.password:
                credentials = (trunk.username, trunk.password)
            return Target(
                uri=f"sip:{number}@{host}",
                destination=Source(trunk.transport.upper(), trunk.host, trunk.port),
                label=number,
                domain=host,
                credentials=credentials,
                caller_id=caller_id or main,
            )

        logged_out = presence_settings.logged_out(self.store, company_id)
        forwardings = presence_settings.forwardings(self.store, company_id)
        voicemail_switches = presence_settings.voicemail_switches(self.store, company_id)
        company = Company(
            id=company_id,
            domain=domain,
            config=config,
            prompts=prompt_folder(self.data, domain),
            system_prompts=self.system_prompts,
            devices=devices,
            now=self.schedule_clock,
            voicemail_path=voicemail_path,
            trunk_target=trunk_target,
            logged_in=lambda group, ext: (group, ext) not in logged_out,
            keep_prompt=lambda name, recording: keep_recording(
                prompt_folder(self.data, domain), name, recording
            ),
            forwarding=lambda ext: _forwarding(config, forwardings, ext),
            voicemail_switch=voicemail_switches.get,
            queues=self.queues.setdefault(company_id, {}),
        )
        self.extend(company)
        return company

    # -- lookups ------------------------------------------------------------------------

    def company(self, company_id: int) -> Company | None:
        self._fresh()
        return self.companies.get(company_id)

    def by_number(self, number: str) -> tuple[Company, NumberConfig] | None:
        """The company and the number's entry for an inbound E.164 number."""
        self._fresh()
        entry = self.numbers.get(number)
        if entry is None:
            return None
        company = self.companies.get(entry[0])
        return None if company is None else (company, entry[1])

    def trunk_at(self, source: Source) -> tuple[Company, str] | None:
        """The company whose trunk this request came from (by address, never by a name)."""
        self._fresh()
        entry = self.trunks.get((source.host, source.port))
        if entry is None:
            return None
        company = self.companies.get(entry[0])
        return None if company is None else (company, entry[1])


def _forwarding(
    config: CompanyConfig, chosen: dict[str, dict[str, str]], ext: str
) -> dict[str, str]:
    """A user's forwarding: the description's, with what the user chose by phone over it."""
    user = next((u for u in config.users if u.ext == ext), None)
    described = user.forwarding.model_dump(exclude_none=True) if user is not None else {}
    merged = {**described, **chosen.get(ext, {})}
    return {kind: target for kind, target in merged.items() if target}
