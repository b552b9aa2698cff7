"""The company description's schema (S3, S5, S6, S8, U8, U11, O2): loops, prompt files,
the support number, quotas, and which fields are secrets."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from vaxel.services.company_config import (
    ConfigError,
    parse_config,
    shown_caller_id,
    strip_secrets,
)

BASE = """
company: {domain: acme.example, name: Acme AB}
users:
  - {ext: "1001", name: Anna}
  - {ext: "1002", name: Björn}
numbers:
  - {number: "08-123 456 00", flow: main}
prompts:
  welcome: {text: Välkommen}
  menu: {text: Tryck ett}
schedules:
  office: {weekly: {monday: ["08:00-17:00"]}}
"""


def _description(extra: str) -> dict[str, Any]:
    data = yaml.safe_load(BASE)
    data.update(yaml.safe_load(extra))
    return data


def _errors(extra: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(_description(extra))
    return caught.value.errors


def test_forwarding_to_an_unknown_extension_is_refused() -> None:
    errors = _errors("""
flows: {main: {destination: {user: "1001"}}}
users:
  - {ext: "1001", name: Anna, forwarding: {no_answer: "1009"}}
  - {ext: "1002", name: Björn, forwarding: {always: "07x"}}
""")
    assert 'users.0.forwarding.no_answer: unknown user "1009"' in errors
    assert any(line.startswith("users.1.forwarding.always: ") for line in errors)


def test_the_operator_is_a_destination_of_the_company() -> None:
    """U9: where a caller who presses 0 after a diversion goes; checked like any other."""
    errors = _errors("""
flows: {main: {destination: {user: "1001"}}}
company: {domain: acme.example, name: Acme AB, operator: {group: reception}}
""")
    assert errors == ['company.operator: unknown group "reception"']
    config = parse_config(
        _description("""
flows: {main: {destination: {user: "1001"}}}
company: {domain: acme.example, name: Acme AB, operator: {user: "1002"}}
""")
    )
    assert config.company.operator is not None
    assert config.company.operator.model_dump() == {"user": "1002"}


# -- prompt files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "/etc/passwd", "sub/welcome.wav", "..", ".", "a\\b.wav", ""]
)
def test_a_prompt_file_is_a_plain_name_in_the_companys_folder(name: str) -> None:
    errors = _errors(f"flows: {{main: {{destination: {{user: '1001'}}}}}}\n"
                     f"prompts: {{welcome: {{file: {name!r}}}}}")  # fmt: skip
    assert len(errors) == 1 and errors[0].startswith("prompts.welcome.file: "), errors
    assert "plain file name" in errors[0]


# -- caller ID, shared boxes, quotas --------------------------------------------------------


def test_the_support_number_is_shown_when_a_user_chooses_it() -> None:
    config = parse_config(
        _description("""
company: {domain: acme.example, name: Acme AB, support_number: "08-123 456 99"}
flows: {main: {destination: {user: "1001"}}}
devices: {mobile: ["Vaxel Mobile"]}
users:
  - {ext: "1001", name: Anna, mobile: "070-174 06 05",
     caller_id: {show: support, per_device: {mobile: mobile}}}
  - {ext: "1002", name: Björn}
""")
    )
    assert config.company.support_number == "+46812345699"
    assert shown_caller_id(config, "1001", "Yealink SIP-T46") == "+46812345699"
    assert shown_caller_id(config, "1001", "Vaxel Mobile 2.1") == "+46701740605"
    assert shown_caller_id(config, "1002", "Yealink SIP-T46") == "+46812345600"


def test_a_caller_id_choice_without_its_number_is_refused() -> None:
    errors = _errors("""
flows: {main: {destination: {user: "1001"}}}
users:
  - {ext: "1001", name: Anna, caller_id: {show: support}}
  - {ext: "1002", name: Björn, caller_id: {per_device: {mobile: direct}}}
""")
    assert "users.0.caller_id.show: the company has no support_number" in errors
    assert "users.1.caller_id.per_device.mobile: the user has no direct_number" in errors


def test_a_shared_box_has_no_pin_of_its_own() -> None:
    errors = _errors("""
flows: {main: {destination: {voicemail: reception}}}
voicemail: {reception: {members: ["1001"], pin: "1234"}}
""")
    assert len(errors) == 1 and errors[0].startswith("voicemail.reception: "), errors
    assert "own PIN" in errors[0]


def test_quotas_and_retention_have_defaults_and_limits() -> None:
    config = parse_config(
        _description("""
company: {domain: acme.example, name: Acme AB, voicemail_retention_days: 90}
flows: {main: {destination: {voicemail: reception}}}
voicemail: {reception: {quota: {messages: 10, seconds: 600}}}
""")
    )
    assert config.company.voicemail_retention_days == 90
    assert (
        config.voicemail["reception"].quota.messages,
        config.users[0].voicemail.quota.messages,
    ) == (10, 100)
    assert config.voicemail["reception"].quota.seconds == 600
    errors = _errors("""
company: {domain: acme.example, name: Acme AB, voicemail_retention_days: 0}
flows: {main: {destination: {voicemail: reception}}}
voicemail: {reception: {quota: {messages: 0}}}
""")
    assert any(line.startswith("company.voicemail_retention_days:") for line in errors)
    assert any(line.startswith("voicemail.reception.quota.messages:") for line in errors)


# -- secrets ----------------------------------------------------------------------------------


def test_secrets_are_named_in_one_place_and_never_in_a_repr() -> None:
    config = parse_config(
        _description("""
flows: {main: {destination: {user: "1001"}}}
users:
  - {ext: "1001", name: Anna, voicemail: {pin: "4711"}}
trunks:
  carrier: {host: 192.0.2.10, username: acme, password: trunk-secret-1,
            registration: {username: acme, password: register-secret-2}}
mail: {host: 127.0.0.1, username: vaxel, password: mail-secret-3}
""")
    )
    shown = repr(config) + str(config)
    for secret in ("4711", "trunk-secret-1", "register-secret-2", "mail-secret-3"):
        assert secret not in shown
    data = strip_secrets(config.model_dump(mode="json"))
    text = repr(data)
    for secret in ("4711", "trunk-secret-1", "register-secret-2", "mail-secret-3"):
        assert secret not in text
    assert data["trunks"]["carrier"]["username"] == "acme"


def test_an_unknown_timezone_is_refused_at_its_path() -> None:
    """The switch reads the company's clock in its zone: a misspelt one is refused when
    the description is applied, not met when the switch loads the company."""
    errors = _errors("""
flows: {main: {destination: {user: "1001"}}}
company: {domain: acme.example, name: Acme AB, timezone: Europe/Stockhlom}
""")
    assert any(line.startswith("company.timezone: ") and "Stockhlom" in line for line in errors)
    fine = parse_config(
        _description("""
flows: {main: {destination: {user: "1001"}}}
company: {domain: acme.example, name: Acme AB, timezone: America/New_York}
""")
    )
    assert fine.company.timezone == "America/New_York"


# -- conference rooms (A3) ----------------------------------------------------------------


def test_a_conference_room_is_described_with_its_pins_secret() -> None:
    config = parse_config(
        _description("""
flows: {main: {destination: {user: "1001"}}}
numbers:
  - {number: "08-123 456 00", flow: main}
  - {number: "08-123 456 50", conference: board}
conferences:
  weekly: {extension: "800", pin: "4711", moderator_pin: "98765", max_participants: 4}
  board: {language: en}
""")
    )
    weekly = config.conferences["weekly"]
    assert (weekly.extension, weekly.max_participants, weekly.language) == ("800", 4, None)
    assert config.conferences["board"].language == "en"
    assert config.numbers[1].conference == "board"
    assert "4711" not in repr(config) and "98765" not in repr(config)
    data = strip_secrets(config.model_dump(mode="json"))
    assert data["conferences"]["weekly"] == {
        "extension": "800", "max_participants": 4, "language": None,
    }  # fmt: skip


def test_a_conference_room_is_checked_like_the_rest() -> None:
    errors = _errors("""
flows: {main: {destination: {user: "1001"}}}
conferences:
  same: {extension: "801", pin: "1234", moderator_pin: "1234"}
  short: {extension: "802", pin: "12"}
  big: {extension: "803", max_participants: 51}
""")
    assert errors == [
        "conferences.same: pin and moderator_pin must differ",
        "conferences.short.pin: a PIN is 4 to 8 digits",
        "conferences.big.max_participants: Input should be less than or equal to 50",
    ]
    errors = _errors("""
flows: {main: {destination: {user: "1001"}}}
numbers:
  - {number: "08-123 456 00", flow: main}
  - {number: "08-123 456 50", conference: nowhere}
  - {number: "08-123 456 51", conference: board, flow: main}
conferences:
  clash: {extension: "1001"}
  twice: {extension: "800"}
  again: {extension: "800"}
  unreachable: {}
  "Bad Name": {extension: "804"}
""")
    assert errors == [
        "numbers.2: a number leads to one of a flow, a user or a conference",
        "conferences: bad name 'Bad Name': use a-z, 0-9, - and _ (max 40)",
    ]
    errors = _errors("""
flows: {main: {destination: {user: "1001"}}}
numbers:
  - {number: "08-123 456 00", flow: main}
  - {number: "08-123 456 50", conference: nowhere}
conferences:
  clash: {extension: "1001"}
  twice: {extension: "800"}
  again: {extension: "800"}
  unreachable: {}
""")
    assert errors == [
        'numbers.1.conference: unknown conference "nowhere"',
        "conferences.clash.extension: 1001 is user 1001's",
        "conferences.again.extension: 800 is conference twice's",
        "conferences.unreachable: give it an extension, or a number of numbers"
        " (conference: unreachable)",
    ]


def test_a_trunk_over_tls_may_name_its_ca_file_and_only_over_tls() -> None:
    config = parse_config(
        _description('flows: {main: {destination: {user: "1001"}}}\n'
                     'users: [{ext: "1001", name: Anna}]\n'
                     'trunks: {carrier: {host: 192.0.2.10, port: 5061, transport: tls,'
                     ' ca_file: /etc/vaxel/carrier-ca.pem}}')
    )  # fmt: skip
    trunk = config.trunks["carrier"]
    assert (trunk.transport, trunk.ca_file) == ("tls", "/etc/vaxel/carrier-ca.pem")
    errors = _errors("trunks: {carrier: {host: 192.0.2.10, ca_file: /etc/ca.pem}}")
    assert any("ca_file is for transport: tls" in error for error in errors), errors


def test_a_queues_callback_and_a_menus_callback_request_are_checked() -> None:
    """A5, A1, A18: a callback's schedule must exist; a menu's request goes to a queue
    that offers callbacks, or by mail or SMS, and somewhere at all."""
    errors = _errors("""
flows: {main: {menu: main}}
menus:
  main:
    prompt: menu
    keys: {"1": {callback: {group: nowhere}}, "2": {callback: {group: plain}},
           "3": {callback: {email: [kundtjanst@acme.example]}}}
groups:
  plain: {members: ["1001"]}
  queue: {members: ["1002"], queue: {callback: {slots: 2, schedule: nights}}}
""")
    assert 'menus.main.keys.1.callback.group: unknown group "nowhere"' in errors
    assert "menus.main.keys.2.callback.group: plain has no queue.callback" in errors
    assert 'groups.queue.queue.callback.schedule: unknown schedule "nights"' in errors
    assert not any(".keys.3" in line for line in errors)
    nowhere = _errors("""
flows: {main: {menu: main}}
menus: {main: {prompt: menu, keys: {"1": {callback: {}}}}}
""")
    assert any("give group, email or sms" in line for line in nowhere)


def test_a_groups_strategy_has_one_name_and_the_older_spellings_still_work() -> None:
    """A5, S8: "parallel" and "sequential" (stored descriptions have them) are read as
    ring-all and fixed-order; an unknown strategy is refused at its path."""
    groups = """
flows: {main: {destination: {group: a}}}
groups:
  a: {members: ["1001"], strategy: parallel}
  b: {members: ["1001"], strategy: sequential}
  c: {members: ["1001"], strategy: longest-idle}
  d: {members: ["1001"]}
"""
    config = parse_config(_description(groups))
    strategies = {name: group.strategy for name, group in config.groups.items()}
    assert strategies == {"a": "ring-all", "b": "fixed-order", "c": "longest-idle", "d": "ring-all"}
    [error] = _errors(groups.replace("longest-idle", "random"))
    assert error.startswith("groups.c.strategy: Input should be 'ring-all', 'fixed-order'")


def test_a_full_queue_destination_is_followed_for_loops() -> None:
    """A7: a queue's `full` destination leads on without the caller, as the overflow."""
    errors = _errors("""
flows: {main: {destination: {group: a}}}
groups:
  a: {members: ["1001"], queue: {max_length: 1, full: {flow: main}}}
""")
    assert any("groups.a (full) -> flows.main" in line for line in errors), errors


def test_the_callback_key_is_one_of_the_queues_keys() -> None:
    """A5, A7: the key that asks for a callback and the key that leaves a message differ."""
    errors = _errors("""
flows: {main: {destination: {group: q}}}
voicemail: {reception: {members: ["1001"]}}
groups:
  q: {members: ["1001"], queue: {voicemail_key: "2", voicemail_to: {voicemail: reception},
                                 callback: {key: "2"}}}
""")
    assert any("callback.key: key '2' is taken by voicemail_key" in line for line in errors)


FLOW = 'flows: {main: {destination: {user: "1001"}}}\n'


def test_a_groups_login_code_is_digits_and_its_own() -> None:
    """A5: *45 + a group's login_code logs in to that group alone: two groups cannot share
    one, and it is digits only (what follows *45 on a keypad)."""
    groups = """
groups:
  sales: {members: ["1001"], login_code: "1"}
  support: {members: ["1002"], login_code: "1"}
"""
    assert 'groups.support.login_code: "1" is group sales\'s too' in _errors(FLOW + groups)
    errors = _errors('groups: {queue: {members: ["1002"], login_code: "1*"}}')
    assert any(e.startswith("groups.queue.login_code:") for e in errors)
    sales = 'groups: {sales: {members: ["1001"], login_code: "12"}}'
    fine = parse_config(_description(FLOW + sales))
    assert fine.groups["sales"].login_code == "12"


def test_pause_reasons_have_defaults_and_a_company_may_name_its_own() -> None:
    """A5: *47 + N pauses with the Nth reason: the list has one of each, and no empty one."""
    assert parse_config(_description(FLOW)).pause_reasons[:2] == ["lunch", "break"]
    own = parse_config(_description(FLOW + "pause_reasons: [kundbesök, Lunch med kund]"))
    assert own.pause_reasons == ["kundbesök", "Lunch med kund"]
    assert any("pause_reasons" in e for e in _errors("pause_reasons: [lunch, lunch]"))
    assert any("pause_reasons" in e for e in _errors("pause_reasons: []"))
    assert any("pause_reasons" in e for e in _errors('pause_reasons: [" x"]'))


def test_the_pause_code_is_told_apart_from_the_others() -> None:
    errors = _errors("feature_codes: {pause: '*4'}")
    assert any("group_login '*45' and pause '*4' begin alike" in e for e in errors)


# -- the operator console (A16) ---------------------------------------------------------


def test_the_console_names_operators_and_keys_over_the_defaults() -> None:
    config = parse_config(
        _description("""
flows: {main: {destination: {user: "1001"}}}
console: {operators: ["1002"], shortcuts: {answer: "Ctrl+Shift+A", park: "F2"}}
""")
    )
    assert config.console.operators == ["1002"]
    keys = config.console.keys()
    assert keys["answer"] == "Ctrl+Shift+A" and keys["park"] == "F2"
    assert keys["transfer"] == "F3"  # a default kept
    assert parse_config(_description('flows: {main: {destination: {user: "1001"}}}')).console.keys()


def test_console_operators_keys_and_actions_are_checked() -> None:
    main = 'flows: {main: {destination: {user: "1001"}}}\n'
    assert 'console.operators.0: unknown user "1009"' in _errors(
        main + 'console: {operators: ["1009"]}'
    )
    assert any("shortcuts" in e for e in _errors(main + 'console: {shortcuts: {answer: "F13"}}'))
    assert any("shortcuts" in e for e in _errors(main + 'console: {shortcuts: {dance: "F2"}}'))
    both = _errors(main + 'console: {shortcuts: {answer: "F3"}}')  # transfer's default
    assert any("F3 is both" in e for e in both)


def test_queues_are_listed_apart_and_read_as_groups_with_a_queue() -> None:
    """A5: `queues:` is where a description lists its ACD queues; each is an answering
    group with a queue (the defaults when its `queue:` is left out), reached as a group."""
    config = parse_config(
        _description("""
flows: {main: {destination: {group: support}}}
groups: {sales: {members: ["1001"]}}
queues:
  support: {members: ["1001", "1002"], strategy: round-robin,
            queue: {max_wait: 300, wrap_up: 10, callback: {key: "2"}}}
  simple: {members: ["1002"]}
""")
    )
    assert set(config.groups) == {"sales", "support", "simple"}
    support = config.groups["support"]
    assert support.strategy == "round-robin" and support.queue is not None
    assert support.queue.wrap_up == 10 and support.queue.callback is not None
    assert config.groups["simple"].queue is not None  # a queue's defaults
    assert config.groups["sales"].queue is None
    clash = _errors("""
flows: {main: {destination: {group: sales}}}
groups: {sales: {members: ["1001"]}}
queues: {sales: {members: ["1002"]}}
""")
    assert any("queues.sales: a group of that name is described too" in line for line in clash)
