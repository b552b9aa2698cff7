"""What only the running switch knows about a company's users (P3, S8, O2): where their phones
are now, who is in a call, how many calls are out through the trunks, which calls run (P4
pickup). The company services ask it through `services.company.Live`."""

from __future__ import annotations

from collections.abc import Callable

from vaxel.calls.api import NOT_FOUND, Call, Reach
from vaxel.calls.b2bua import B2BUA
from vaxel.calls.router import Router
from vaxel.services.users import SipUser


class LiveCalls:
    def __init__(
        self,
        calls: B2BUA,
        router: Router,
        users: Callable[[str, str], SipUser | None],
        clock: Callable[[], float],
    ) -> None:
        self.calls = calls
        self.router = router
        self.users = users  # (domain, extension) -> the user, from the credential cache
        self.clock = clock

    def reach(self, domain: str, extension: str) -> Reach:
        user = self.users(domain, extension)
        if user is None:
            return Reach(extension, refusal=NOT_FOUND)
        return self.router.devices(user, self.clock())

    def in_call(self, company_id: int, extension: str) -> bool:
        return self.calls.in_call(company_id, extension)

    def outbound_calls(self, company_id: int) -> int:
        return self.calls.outbound_calls(company_id)

    def running(self, company_id: int) -> list[Call]:
        """The company's running calls, oldest first (P4 pickup); never another company's."""
        return [call for call in self.calls.calls.values() if call.company_id == company_id]
