"""P7: any description survives apply -> export -> apply (a property, tried with hypothesis).

The descriptions are generated the way companies write them: users with PINs, numbers,
prompts, flows, menus, schedules with and without holidays, groups with queues, shared
boxes with quotas, trunks with passwords, mail, SMS and device kinds. For each one:

- what is stored means what was described (secrets aside: the PIN is stored hashed and
  still matches, the user passwords live in the users table);
- the export, applied again, stores the very same document (secrets kept) and exports
  the very same text.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from vaxel.services.company_config import CompanyConfig, parse_config
from vaxel.services.configuration import apply_config, export_config, load_document, load_yaml
from vaxel.services.voicemail import verify_pin
from vaxel.store import Company, Store
from vaxel.store.models import CompanyDocument

OWN_NUMBERS = ["08-123 456 00", "08-123 456 01", "+46 8 123 456 02", "0812345603"]
EXTERNAL = ["070-174 06 05", "+44 20 7946 0958", "031-123 45 67", "112"]
MOBILES = ["070-174 06 10", "+46 73 123 45 67"]
RANGES = ["08:00-17:00", "22:00-00:00", "00:00-24:00", "12:00-13:00", "22:00-02:00"]
HOLIDAYS = ["Trettondedag jul", "Julafton", "Midsommarafton", "2027-12-31"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

names = st.sampled_from(["main", "sales", "support", "night", "reception", "a-1", "b_2"])
texts = st.text(alphabet="abcåäö ÅÄÖ.,!?XYZ0123", min_size=1, max_size=30).filter(str.strip)
pins = st.from_regex(r"\A[0-9]{4,8}\Z")
secrets_ = st.text(alphabet="abcdefghijkXYZ0123456789-_", min_size=8, max_size=20)


@st.composite
def schedules(draw: st.DrawFn) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "weekly": {
            day: draw(st.lists(st.sampled_from(RANGES), max_size=2, unique=True))
            for day in draw(st.lists(st.sampled_from(WEEKDAYS), max_size=7, unique=True))
        }
    }
    holidays = draw(st.sampled_from(["absent", "null", "rules"]))
    if holidays == "null":
        schedule["holidays"] = None  # holidays change nothing
    elif holidays == "rules":
        schedule["holidays"] = {
            "closed": draw(st.booleans()),
            "eves_closed": draw(st.booleans()),
            "except": draw(st.lists(st.sampled_from(HOLIDAYS), max_size=2, unique=True)),
        }
    if draw(st.booleans()):
        schedule["special_days"] = [
            {"date": "2027-12-27", "hours": draw(st.lists(st.sampled_from(RANGES), max_size=1))},
            {"from": "2027-07-01", "to": "2027-07-31", "hours": ["09:00-15:00"],
             "weekdays": WEEKDAYS[:5], "name": "sommartider"},
        ]  # fmt: skip
    if draw(st.booleans()):
        until = draw(st.sampled_from([None, "2027-01-02T10:00:00", "2027-01-02T10:00:00+01:00"]))
        schedule["override"] = {"state": draw(st.sampled_from(["open", "closed"])), "until": until}
    if draw(st.booleans()):
        schedule["timezone"] = "Europe/London"
    return schedule


@st.composite
def descriptions(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 5))
    exts = [f"10{n:02d}" for n in draw(st.lists(st.integers(1, 60), min_size=count,
                                                max_size=count, unique=True))]  # fmt: skip
    prompt_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    schedule_names = draw(st.lists(names, max_size=2, unique=True))
    group_names = draw(st.lists(names, max_size=2, unique=True))
    box_names = draw(st.lists(names, max_size=2, unique=True))
    menu_names = draw(st.lists(names, max_size=2, unique=True))
    trunk_names = draw(st.lists(names, max_size=2, unique=True))
    own = draw(st.lists(st.sampled_from(OWN_NUMBERS), min_size=1, max_size=3, unique=True))
    support = draw(st.sampled_from([None, "08-123 456 99"]))
    prompt = st.sampled_from(prompt_names)

    def maybe(strategy: st.SearchStrategy[Any]) -> Any:
        return draw(st.none() | strategy)

    ends = [st.builds(lambda e: {"user": e}, st.sampled_from(exts)),
            st.builds(lambda e: {"external": e}, st.sampled_from(EXTERNAL)),
            st.builds(lambda e: {"voicemail": e}, st.sampled_from(exts + box_names))]  # fmt: skip
    end = st.one_of(ends)  # leads nowhere further: never part of a loop
    onward = st.one_of(
        [*ends, *([st.builds(lambda g: {"group": g}, st.sampled_from(group_names))]
                  if group_names else [])]
    )  # fmt: skip

    users = []
    for ext in exts:
        user: dict[str, Any] = {"ext": ext, "name": draw(texts), "password": draw(secrets_)}
        mobile, direct = maybe(st.sampled_from(MOBILES)), maybe(st.just(f"08-123 456 {ext[2:]}"))
        shown = ["main"] + ["mobile"] * bool(mobile) + ["direct"] * bool(direct)
        shown += ["support"] * bool(support)
        if mobile:
            user["mobile"] = mobile
        if direct:
            user["direct_number"] = direct
        if draw(st.booleans()):
            user["caller_id"] = {
                "show": draw(st.sampled_from(shown)),
                "per_device": draw(st.dictionaries(st.sampled_from(["mobile", "softphone",
                                                                    "desk"]),
                                                   st.sampled_from(shown), max_size=2)),
            }  # fmt: skip
        user["ring_time"] = draw(st.integers(5, 300))
        user["admin"] = draw(st.booleans())
        voicemail: dict[str, Any] = {"enabled": draw(st.booleans())}
        for key, value in (("pin", maybe(pins)), ("email", maybe(st.just(f"u{ext}@acme.se"))),
                           ("sms", maybe(st.sampled_from(MOBILES))),
                           ("greeting", maybe(prompt)),
                           ("quota", maybe(st.fixed_dictionaries(
                               {"messages": st.none() | st.integers(1, 500),
                                "seconds": st.none() | st.integers(60, 36000)})))):  # fmt: skip
            if value is not None:
                voicemail[key] = value
        user["voicemail"] = voicemail
        forwarding = {
            kind: draw(st.sampled_from([e for e in exts if e != ext] + EXTERNAL))
            for kind in draw(st.lists(st.sampled_from(["always", "busy", "no_answer"]),
                                      max_size=2, unique=True))
        }  # fmt: skip
        if forwarding:
            user["forwarding"] = forwarding
        users.append(user)

    prompts = {}
    for name in prompt_names:
        prompts[name] = {"text": draw(texts), "language": draw(st.sampled_from(["sv", "en"]))}
        if draw(st.booleans()):
            prompts[name]["number"] = draw(st.integers(1, 999))

    groups = {}
    for name in group_names:
        group: dict[str, Any] = {
            "members": draw(st.lists(st.sampled_from(exts), max_size=3, unique=True)),
            "strategy": draw(
                st.sampled_from(
                    ["ring-all", "fixed-order", "round-robin", "longest-idle", "fewest-calls"]
                )
            ),
            "ring_time": draw(st.integers(5, 300)),
            "busy_members": draw(st.sampled_from(["skip", "call-waiting"])),
        }
        if draw(st.booleans()):
            group["queue"] = {
                "music": maybe(prompt), "announcement": maybe(prompt),
                "announce_every": draw(st.sampled_from([5, 30.5, 600])),
                "announce_position": draw(st.booleans()),
                "max_wait": draw(st.sampled_from([5, 120, 3600])),
            }  # fmt: skip
        overflow = maybe(end)
        if overflow is not None:
            group["overflow"] = overflow
        groups[name] = group

    menus = {}
    for name in menu_names:
        keys = draw(st.dictionaries(st.sampled_from(list("0123456789*#")),
                                    onward | st.sampled_from(["repeat", "hangup"])
                                    | st.builds(lambda m: {"menu": m}, st.sampled_from(menu_names)),
                                    max_size=4))  # fmt: skip
        menus[name] = {
            "prompt": draw(prompt), "keys": keys, "timeout": draw(st.sampled_from([0.5, 5, 60])),
            "retries": draw(st.integers(0, 5)), "invalid_prompt": maybe(prompt),
            "timeout_prompt": maybe(prompt),
            "default": draw(end | st.sampled_from(["repeat", "hangup"])),
        }  # fmt: skip

    flows = {}
    for name in draw(st.lists(names, min_size=1, max_size=2, unique=True)):
        flow: dict[str, Any] = {"welcome": maybe(prompt)}
        if menu_names and draw(st.booleans()):
            flow["menu"] = draw(st.sampled_from(menu_names))
        else:
            flow["destination"] = draw(onward)
        if schedule_names and draw(st.booleans()):
            flow["schedule"] = draw(st.sampled_from(schedule_names))
            flow["closed"] = {"prompt": maybe(prompt), "destination": maybe(end)}
        flows[name] = flow
    # A menu key may lead to a flow: the caller chose it, so it is no loop.
    for menu in menus.values():
        if draw(st.booleans()):
            menu["keys"]["0"] = {"flow": draw(st.sampled_from(sorted(flows)))}

    numbers = []
    for number in own:
        if draw(st.booleans()):
            numbers.append({"number": number, "flow": draw(st.sampled_from(sorted(flows)))})
        else:
            numbers.append({"number": number, "user": draw(st.sampled_from(exts))})

    trunks = {}
    for name in trunk_names:
        trunk: dict[str, Any] = {"host": draw(st.sampled_from(["192.0.2.10", "sip.carrier.se"])),
                                 "port": draw(st.sampled_from([5060, 5080])),
                                 "transport": draw(st.sampled_from(["udp", "tcp"]))}  # fmt: skip
        if draw(st.booleans()):
            trunk["domain"] = "carrier.se"
        if draw(st.booleans()):
            trunk["username"], trunk["password"] = draw(texts), draw(secrets_)
        if draw(st.booleans()):
            trunk["registration"] = {"username": draw(texts), "password": draw(secrets_),
                                     "expires": draw(st.integers(60, 3600))}  # fmt: skip
        trunks[name] = trunk

    description: dict[str, Any] = {
        "company": {"domain": "acme.example", "name": draw(texts),
                    "language": draw(st.sampled_from(["sv", "en"]))},
        "users": users, "numbers": numbers, "prompts": prompts, "flows": flows,
        "menus": menus, "groups": groups,
        "schedules": {name: draw(schedules()) for name in schedule_names},
        "voicemail": {
            name: {"members": draw(st.lists(st.sampled_from(exts), max_size=2, unique=True)),
                   "greeting": maybe(prompt),
                   "email": draw(st.lists(st.sampled_from(["a@acme.se", "b@acme.se"]),
                                          max_size=2, unique=True)),
                   "sms": draw(st.lists(st.sampled_from(MOBILES), max_size=1)),
                   "max_seconds": draw(st.integers(10, 600)),
                   "quota": {"messages": draw(st.none() | st.integers(1, 500))}}
            for name in box_names
        },
        "trunks": trunks,
    }  # fmt: skip
    if support:
        description["company"]["support_number"] = support
    if draw(st.booleans()):
        description["company"]["voicemail_retention_days"] = draw(st.integers(1, 3650))
    if draw(st.booleans()):  # U9: where 0 leads after a diversion (the caller chose it)
        description["company"]["operator"] = draw(onward)
    if trunks and draw(st.booleans()):
        description["outbound_trunk"] = draw(st.sampled_from(sorted(trunks)))
    if draw(st.booleans()):
        description["outbound"] = {
            "allowed": draw(st.lists(st.sampled_from(["national", "mobile", "international",
                                                      "premium", "toll-free"]), unique=True)),
            "max_concurrent_calls": draw(st.integers(0, 50)),
        }  # fmt: skip
    if draw(st.booleans()):
        mail: dict[str, Any] = {
            "host": "smtp.acme.se",
            "port": draw(st.sampled_from([25, 587])),
            "sender": "voicemail@acme.se",
            "starttls": draw(st.booleans()),
        }
        if draw(st.booleans()):
            mail["username"], mail["password"] = "vaxel", draw(secrets_)
        description["mail"] = mail
    if draw(st.booleans()):
        description["sms"] = draw(st.sampled_from([
            {"url_template": "https://sms.example/send?to={to}&text={text}"},
            {"url_template": "https://sms.example/api", "method": "POST",
             "body_template": '{"to": "{to}", "text": "{text}", "from": "{caller}"}',
             "content_type": "application/json", "timeout": 3},
        ]))  # fmt: skip
    if draw(st.booleans()):
        description["devices"] = {"mobile": ["Vaxel Mobile"], "desk": ["Yealink", "snom"]}
    return description


def _meaning(config: CompanyConfig) -> dict[str, Any]:
    """What a description says, but the PINs (stored hashed) and the user passwords (kept as
    digest hashes in the users table). Trunk and mail passwords are stored as they are."""
    data = config.model_dump(mode="json")
    for user in data["users"]:
        user.pop("password", None)
        user["voicemail"].pop("pin", None)
    return data


def _stored(store: Store) -> str:
    with store.session(read_only=True) as session:
        return session.scalars(select(CompanyDocument.document)).one()


def test_apply_export_apply_keeps_everything(tmp_path: Path) -> None:
    store = Store.open(tmp_path, url=f"sqlite:///{tmp_path / 'vaxel.db'}")
    tried = itertools.count()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(descriptions())
    def round_trip(description: dict[str, Any]) -> None:
        next(tried)
        try:
            config = parse_config(json.loads(json.dumps(description)))
            apply_config(store, config)
            first = _stored(store)
            with store.session(read_only=True) as session:
                company_id = session.scalars(select(Company.id)).one()
            stored = load_document(store, company_id)
            assert stored is not None
            assert _meaning(stored) == _meaning(config)  # nothing lost, nothing added
            for described, kept in zip(config.users, stored.users, strict=True):
                if described.voicemail.pin is not None:
                    assert kept.voicemail.pin != described.voicemail.pin  # hashed
                    assert verify_pin(kept.voicemail.pin or "", described.voicemail.pin)
            exported = export_config(store, "acme.example")
            apply_config(store, load_yaml(exported))
            assert _stored(store) == first  # the same document, secrets kept
            assert export_config(store, "acme.example") == exported
        finally:
            with store.session() as session:
                session.execute(delete(Company))

    try:
        round_trip()
    finally:
        store.close()
    assert next(tried) >= 60
