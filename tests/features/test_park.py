"""Call park in memory (P4): Björn, talking with Anna, transfers her to the park extension
700; he hears "parked on 7 0 1", Anna hears music, and Cecilia dials 701 to take her. A call
nobody takes rings Björn again; orbits are few and the description says how many."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from tests.features.conftest import variant
from tests.features.test_transfer import frags, hear_each_other, refer, talking
from tests.memory import MemorySwitch, contains
from vaxel.services.company_config import ConfigError
from vaxel.services.configuration import load_yaml

PARKING = 'devices: {mobile: ["Vaxel Mobile"]}'


def with_park(park: str = "{}") -> str:
    return variant(PARKING, f"{PARKING}\npark: {park}")


@pytest.fixture
def acme(acme_as: Callable[..., MemorySwitch]) -> MemorySwitch:
    return acme_as(description=with_park())


def said(acme: MemorySwitch, *names: str) -> np.ndarray:
    return np.concatenate([acme.system(name) for name in names])


def test_a_parked_call_is_taken_from_its_orbit_by_a_colleague(acme: MemorySwitch) -> None:
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    assert refer(bjorn, "<sip:700@acme.test>") == 202
    acme.advance(2.0)
    assert contains(bjorn.heard(), said(acme, "park-parked-on", "num-7", "num-0", "num-1"))
    assert frags(bjorn)[-1] == "SIP/2.0 200 OK" and bjorn.requests("BYE")  # Björn is free
    assert contains(anna.heard(), acme.system("music")[:4000])  # Anna waits with music
    assert not anna.requests("BYE")
    cecilia.dial("701")
    assert cecilia.answered() is not None
    assert hear_each_other(acme, anna, cecilia)
    cecilia.hang_up()
    assert anna.requests("BYE") and not acme.calls
    (record,) = acme.records
    assert (record.caller, record.answered_by, record.disposition) == ("1001", "1003", "answered")


def test_the_next_call_parks_on_the_next_orbit_and_an_empty_orbit_is_404(
    acme: MemorySwitch,
) -> None:
    anna, bjorn = talking(acme)
    assert refer(bjorn, "<sip:700@acme.test>") == 202
    acme.advance(2.0)
    dan = acme.phone("1004")
    dan.dial("700")  # Dan parks himself: he hears his orbit, then music
    assert dan.answered() is not None
    acme.advance(2.0)
    assert contains(dan.heard(), said(acme, "park-parked-on", "num-7", "num-0", "num-2"))
    cecilia = acme.phone("1003")
    cecilia.dial("703")
    assert cecilia.last_final("INVITE").status == 404  # type: ignore[union-attr]
    cecilia.dial("702")
    assert cecilia.answered() is not None
    assert hear_each_other(acme, dan, cecilia)
    assert not anna.requests("BYE")  # still parked on 701


def test_a_call_nobody_takes_rings_the_parker_again(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_park("{timeout: 20}"))  # (memory phones send no RTP)
    anna, bjorn = talking(acme)
    assert refer(bjorn, "<sip:700@acme.test>") == 202
    acme.advance(2.0)
    assert bjorn.ringing() is None
    acme.advance(19.0)
    assert bjorn.ringing() is not None
    bjorn.pick_up()
    assert hear_each_other(acme, anna, bjorn)
    cecilia = acme.phone("1003")
    cecilia.dial("701")  # no longer parked
    assert cecilia.last_final("INVITE").status == 404  # type: ignore[union-attr]


def test_with_every_orbit_taken_the_transfer_fails_and_the_two_talk_on(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_park('{extension: "800", orbits: 1, timeout: 30}'))
    dan = acme.phone("1004")
    dan.dial("800")
    assert dan.answered() is not None
    anna, bjorn = talking(acme)
    assert refer(bjorn, "<sip:800@acme.test>") == 202
    assert frags(bjorn)[-1] == "SIP/2.0 486 Busy Here (every park orbit is taken)"
    assert hear_each_other(acme, anna, bjorn)
    acme.advance(31.0)  # Dan's park timed out: it rings Dan, who has no voicemail
    assert dan.ringing() is not None


def test_an_orbit_is_not_a_transfer_target_and_park_is_off_unless_described(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_park())
    anna, bjorn = talking(acme)
    assert refer(bjorn, "<sip:701@acme.test>") == 403
    assert hear_each_other(acme, anna, bjorn)
    plain = acme_as()
    cecilia = plain.phone("1003")
    cecilia.dial("700")
    assert cecilia.last_final("INVITE").status == 404  # type: ignore[union-attr]


def test_the_description_refuses_orbits_that_are_extensions_or_too_wide() -> None:
    base = 'company: {domain: acme.test, name: Acme AB}\nusers: [{ext: "702", name: Ola}]\n'
    with pytest.raises(ConfigError, match='park: "702" is a user\'s extension'):
        load_yaml(base + "park: {}")
    with pytest.raises(ConfigError, match="more digits than the park extension 95"):
        load_yaml(base + 'park: {extension: "95", orbits: 9}')
    config = load_yaml(base + 'park: {extension: "7100", orbits: 3}')
    assert config.park is not None and config.park.orbit_numbers() == ["7101", "7102", "7103"]
    default = load_yaml(base.replace('"702"', '"1001"') + "park: {}").park
    assert default is not None and (default.extension, default.timeout) == ("700", 60)
    assert default.orbit_numbers() == [f"70{i}" for i in range(1, 10)]
    room = 'conferences: {weekly: {extension: "705"}}\n'
    with pytest.raises(ConfigError, match='park: "705" is the extension of conference room'):
        load_yaml(base.replace('"702"', '"1001"') + room + "park: {}")


def test_another_companys_user_cannot_take_a_parked_call(
    acme: MemorySwitch,
) -> None:
    from tests.memory import PASSWORD, MemoryPhone
    from vaxel.services import companies, users

    companies.add_company(acme.store, "other.example", "Other AB")
    users.add_user(acme.store, "other.example", "1003", "Olga", PASSWORD)
    acme.advance(0.1)
    olga = MemoryPhone(acme, "1003", PASSWORD, "198.51.100.78", domain="other.example")
    assert olga.register().status == 200
    anna, bjorn = talking(acme)
    assert refer(bjorn, "<sip:700@acme.test>") == 202
    acme.advance(2.0)
    olga.dial("701")  # Other AB has no park: 701 is nobody there
    assert olga.last_final("INVITE").status == 404  # type: ignore[union-attr]
    cecilia = acme.phone("1003")
    cecilia.dial("701")  # still parked for Acme
    assert cecilia.answered() is not None
    assert hear_each_other(acme, anna, cecilia)


def test_a_key_for_the_orbit_lights_while_a_call_waits_there(acme: MemorySwitch) -> None:
    """Dan's desk phone has a key for orbit 701 (a dialog subscription): it shows Anna
    waiting while she is parked, and goes dark when Cecilia takes her; 710 is no orbit."""
    import xml.etree.ElementTree as ET

    dialog = "{urn:ietf:params:xml:ns:dialog-info}"
    dan = acme.phone("1004")
    assert dan.subscribe("710", event="dialog") == 404
    assert dan.subscribe("701", event="dialog") == 200

    def key() -> list[tuple[str, str]]:
        notify = [n for n in dan.requests("NOTIFY") if n.headers.get("Event") == "dialog"][-1]
        root = ET.fromstring(notify.body)
        return [
            (d.findtext(f"{dialog}state", ""), d.findtext(f"{dialog}remote/{dialog}identity", ""))
            for d in root.iter(f"{dialog}dialog")
        ]

    assert key() == []
    _anna, bjorn = talking(acme)
    assert refer(bjorn, "<sip:700@acme.test>") == 202
    acme.advance(2.0)
    assert key() == [("confirmed", "sip:1001@acme.test")]  # Anna waits on 701
    cecilia = acme.phone("1003")
    cecilia.dial("701")
    assert cecilia.answered() is not None
    acme.run()
    assert key() in ([], [("terminated", "sip:1001@acme.test")])
    company_id = next(iter(acme.core.directory.companies))
    assert acme.core.lines.line(company_id, "701").state == "idle"
