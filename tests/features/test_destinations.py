"""features/destinations in memory (S1, S3, S8): every kind of destination has its step, and a
loop that `config apply` would refuse still cannot make a call go round forever."""

from __future__ import annotations

import json
from typing import get_args

from tests.features.conftest import SUPPORT
from tests.memory import MemorySwitch
from vaxel.features.context import Feature
from vaxel.features.destinations import step_for
from vaxel.services import company_config as cc
from vaxel.store.models import CompanyDocument

EXAMPLES = {
    cc.ToUser: cc.ToUser(user="1002"),
    cc.ToGroup: cc.ToGroup(group="sales"),
    cc.ToVoicemail: cc.ToVoicemail(voicemail="reception"),
    cc.ToMenu: cc.ToMenu(menu="main"),
    cc.ToExternal: cc.ToExternal(external="+46701740605"),
    cc.ToFlow: cc.ToFlow(flow="main"),
}


def test_every_kind_of_destination_has_its_step(acme: MemorySwitch) -> None:
    company = acme.core.directory.company(1)
    assert company is not None
    kinds = [get_args(member)[0] for member in get_args(get_args(cc.Destination)[0])]
    assert set(kinds) == set(EXAMPLES)  # a new kind of the schema needs an example here
    for kind in kinds:
        assert isinstance(step_for(company, EXAMPLES[kind]), Feature), kind


def test_a_loop_that_slipped_past_apply_ends_the_call(acme: MemorySwitch) -> None:
    # The "support" flow goes to the "support" group; nobody of it has a phone, so it
    # overflows at once, here back to the flow: round and round without the caller.
    with acme.store.session() as session:
        stored = session.get(CompanyDocument, 1)
        assert stored is not None
        document = json.loads(stored.document)
        document["groups"]["support"]["overflow"] = {"flow": "support"}
        stored.document = json.dumps(document)
    acme.core.directory._load()
    caller = acme.carrier()
    caller.dial(SUPPORT)
    caller.answered()
    acme.advance(0.5)
    assert caller.requests("BYE")  # ended, not followed forever
    assert "482" in (caller.requests("BYE")[0].headers.get("Reason") or "")
    assert not acme.calls
