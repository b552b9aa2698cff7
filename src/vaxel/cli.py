"""The `vaxel` command line (P1, P3, P7): run the switch and administer companies and users.

Its options and messages are a stable contract (scripts call it). Errors are one
line on stderr, `vaxel: error: ...`, with exit status 2 for bad usage and 1 for
input the services refused; a refused command writes nothing.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from vaxel.options import ServeOptions
from vaxel.services.errors import ServiceError

if TYPE_CHECKING:  # the store and services load lazily, so `--help` stays quick
    from vaxel.services.call_records import CallRecordInfo
    from vaxel.store import Store

DEFAULT_DATA = Path("vaxel-data")
DEFAULT_SIP = "127.0.0.1:5060"
DEFAULT_HTTP = "127.0.0.1:8080"
DEFAULT_RTP = "20000-29999"
_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) under the program name `vaxel`."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"vaxel: error: {message}\n")


def _usage(message: str) -> NoReturn:
    """A usage error found after parsing: one line, exit status 2, as argparse's."""
    _Parser(prog="vaxel").error(message)


def host_port(text: str) -> tuple[str, int]:
    """Parse `HOST:PORT`, `[IPv6]:PORT`; port 0 asks the OS for a free one."""
    match = re.fullmatch(r"\[([^\]]+)\]:([0-9]{1,5})|([^:\[\]]+):([0-9]{1,5})", text)
    if match is None:
        raise argparse.ArgumentTypeError(f'expected HOST:PORT, got "{text}"')
    if match.group(1) is not None:
        host, port = match.group(1), int(match.group(2))
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise argparse.ArgumentTypeError(f'invalid IPv6 address "{host}"') from None
    else:
        host, port = match.group(3), int(match.group(4))
        if not _HOSTNAME.fullmatch(host):
            raise argparse.ArgumentTypeError(f'invalid host "{host}"')
    if port > 65535:
        raise argparse.ArgumentTypeError(f"port {port} out of range 0-65535")
    return host, port


def port_range(text: str) -> tuple[int, int]:
    """Parse `LOW-HIGH` (inclusive), the UDP ports media may use."""
    match = re.fullmatch(r"([0-9]{1,5})-([0-9]{1,5})", text)
    if match is None:
        raise argparse.ArgumentTypeError(f'expected LOW-HIGH, got "{text}"')
    low, high = int(match.group(1)), int(match.group(2))
    if not 1 <= low < high <= 65535:
        raise argparse.ArgumentTypeError(
            f'invalid port range "{text}": need 1 <= LOW < HIGH <= 65535'
        )
    return low, high


def _http(text: str) -> tuple[str, int] | None:
    return None if text == "off" else host_port(text)


def positive_int(text: str) -> int:
    """Parse a whole number of at least 1."""
    if not re.fullmatch(r"[0-9]{1,9}", text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f'expected a positive whole number, got "{text}"')
    return int(text)


def _seconds(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise argparse.ArgumentTypeError(f'expected whole seconds, got "{text}"')
    return int(text)


def _data_option(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        default=default,
        metavar="DIR",
        help=f"data folder (default ./{DEFAULT_DATA})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vaxel", description="Vaxel, a hosted business phone system.")
    _data_option(parser, None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        group: argparse._SubParsersAction, name: str, handler: Callable, help: str
    ) -> argparse.ArgumentParser:
        sub = group.add_parser(name, help=help, description=help)
        # SUPPRESS: a --data given before the subcommand is not reset by the subparser.
        _data_option(sub, argparse.SUPPRESS)
        sub.set_defaults(handler=handler)
        return sub

    serve = command(commands, "serve", _serve, "run the switch")
    serve.add_argument("--sip", type=host_port, default=DEFAULT_SIP, metavar="HOST:PORT")
    serve.add_argument("--rtp-ports", type=port_range, default=DEFAULT_RTP, metavar="LOW-HIGH")
    serve.add_argument(
        "--http",
        type=_http,
        default=DEFAULT_HTTP,
        metavar="HOST:PORT",
        help=f"the web pages and the API (default {DEFAULT_HTTP}; off: none)",
    )
    serve.add_argument("--demo", action="store_true", help="create the demo company")
    serve.add_argument(
        "--tls",
        type=host_port,
        metavar="HOST:PORT",
        help="SIP over TLS too (default: none; a self-signed certificate without --cert)",
    )
    serve.add_argument(
        "--cert", type=Path, metavar="FILE", help="the TLS certificate (PEM, chain after it)"
    )
    serve.add_argument("--key", type=Path, metavar="FILE", help="the TLS certificate's key (PEM)")
    serve.add_argument(
        "--https",
        type=host_port,
        metavar="HOST:PORT",
        help="the web, the API and SIP over secure WebSocket (wss://HOST:PORT/ws) too, "
        "with --tls's certificate",
    )

    company = commands.add_parser("company", help="manage companies").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add = command(company, "add", _company_add, "add a company")
    add.add_argument("domain", metavar="DOMAIN", help="its SIP domain, e.g. acme.example")
    add.add_argument("--name", required=True)
    command(company, "list", _company_list, "list companies")
    admin = command(
        company, "admin", _company_admin, "make a user an administrator of their company"
    )
    admin.add_argument("domain", metavar="DOMAIN")
    admin.add_argument("--ext", required=True, metavar="EXTENSION")
    admin.add_argument("--password", help="their web password (at least 8 characters)")
    admin.add_argument("--revoke", action="store_true", help="make them a plain user again instead")

    provider = commands.add_parser("admin", help="the service provider's administrators")
    actions = provider.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = command(actions, "add", _admin_add, "add a provider administrator (web and API)")
    add.add_argument("email", metavar="EMAIL")
    add.add_argument("--password", help="web password (read from stdin when omitted)")

    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add = command(user, "add", _user_add, "add a user (an extension)")
    add.add_argument("--company", required=True, metavar="DOMAIN")
    add.add_argument("--ext", required=True, metavar="EXTENSION", help="2 to 8 digits")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--password", help="SIP password (read from stdin when omitted)")
    add.add_argument(
        "--ring-time",
        type=_seconds,
        default=30,
        metavar="SECONDS",
        help="how long calls to the user ring (5 to 300, default 30)",
    )
    listing = command(user, "list", _user_list, "list a company's users")
    listing.add_argument("--company", required=True, metavar="DOMAIN")
    password = command(user, "password", _user_password, "set a user's SIP password")
    password.add_argument("--company", required=True, metavar="DOMAIN")
    password.add_argument("--ext", required=True, metavar="EXTENSION")
    password.add_argument("--password", help="new SIP password (read from stdin when omitted)")

    regs = command(commands, "registrations", _registrations, "show registered phones")
    regs.add_argument("--company", required=True, metavar="DOMAIN")

    calls = command(commands, "calls", _calls, "show a company's recent calls")
    calls.add_argument("--company", required=True, metavar="DOMAIN")
    calls.add_argument(
        "--limit", type=positive_int, default=100, metavar="N", help="newest N calls (default 100)"
    )
    group = commands.add_parser("group", help="answering-group membership").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    for action, text in (("login", "log a member in"), ("logout", "log a member out")):
        sub = command(group, action, _group_login, f"{text} (as *45 / *46 from the phone)")
        sub.add_argument("--company", required=True, metavar="DOMAIN")
        sub.add_argument("--group", required=True, metavar="NAME")
        sub.add_argument("--ext", required=True, metavar="EXTENSION")
    forward = command(commands, "forward", _forward, "set or clear a user's call forwarding")
    forward.add_argument("--company", required=True, metavar="DOMAIN")
    forward.add_argument("--ext", required=True, metavar="EXTENSION")
    forward.add_argument("--when", required=True, choices=("always", "busy", "no-answer"))
    target = forward.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="NUMBER", help="an extension or an external number")
    target.add_argument("--clear", action="store_true")
    mailbox = command(commands, "voicemail", _voicemail, "turn a user's voicemail box on or off")
    mailbox.add_argument("state", choices=("on", "off"))
    mailbox.add_argument("--company", required=True, metavar="DOMAIN")
    mailbox.add_argument("--ext", required=True, metavar="EXTENSION")

    config = commands.add_parser("config", help="a company described as a YAML file")
    actions = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    apply = command(actions, "apply", _config_apply, "make a company what FILE.yaml describes")
    apply.add_argument("file", type=Path, metavar="FILE.yaml")
    export = command(actions, "export", _config_export, "print a company's description")
    export.add_argument("domain", metavar="DOMAIN")
    return parser


def _group_login(args: argparse.Namespace) -> int:
    from vaxel.services import presence_settings

    on = args.action == "login"
    with _open(args) as store:
        company_id = presence_settings.company_id_of(store, args.company)
        presence_settings.set_logged_in(store, company_id, args.group, args.ext, on)
    print(f"{args.ext} logged {'in to' if on else 'out of'} {args.group}")
    return 0


def _forward(args: argparse.Namespace) -> int:
    from vaxel.services import presence_settings

    kind = args.when.replace("-", "_")
    with _open(args) as store:
        company_id = presence_settings.company_id_of(store, args.company)
        presence_settings.set_forwarding(store, company_id, args.ext, kind, args.to)
    print(f"{args.ext}: forwarding {args.when} " + ("cleared" if args.clear else f"to {args.to}"))
    return 0


def _voicemail(args: argparse.Namespace) -> int:
    from vaxel.services import presence_settings

    with _open(args) as store:
        company_id = presence_settings.company_id_of(store, args.company)
        presence_settings.set_voicemail(store, company_id, args.ext, args.state == "on")
    print(f"{args.ext}: voicemail {args.state}")
    return 0


def _config_apply(args: argparse.Namespace) -> int:
    from vaxel.services import configuration
    from vaxel.services.company_config import ConfigError

    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"vaxel: error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    try:
        config = configuration.load_yaml(text)
        with _open(args) as store:
            applied = configuration.apply_config(
                store, config, data=args.data, source_dir=args.file.parent
            )
    except ConfigError as error:
        print(f"vaxel: error: {args.file} is not applied; nothing changed:", file=sys.stderr)
        for line in error.errors:
            print(f"  {line}", file=sys.stderr)
        return 1
    verb = "created" if applied.company_created else "updated"
    print(f"{config.company.domain} {verb} (version {applied.version}):", end=" ")
    print(
        f"{len(applied.users_added)} users added, {len(applied.users_updated)} updated, "
        f"{len(applied.users_removed)} removed; {applied.numbers} numbers"
    )
    return 0


def _config_export(args: argparse.Namespace) -> int:
    from vaxel.services import configuration

    with _open(args) as store:
        print(configuration.export_config(store, args.domain), end="")
    return 0


def _open(args: argparse.Namespace) -> Store:
    from vaxel.store import Store

    return Store.open(args.data)


def _read_password(given: str | None, what: str = "SIP password") -> str:
    if given is not None:
        return given
    if sys.stdin.isatty():
        first = getpass.getpass(f"{what}: ")
        if getpass.getpass("again: ") != first:
            raise SystemExit("vaxel: error: the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    for row in (headers, *rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)]
        print("  ".join(cells).rstrip())


def _serve(args: argparse.Namespace) -> int:
    from vaxel.app import serve

    sip_host, sip_port = args.sip
    rtp_low, rtp_high = args.rtp_ports
    if (args.cert is None) != (args.key is None):
        _usage("--cert and --key go together")
    if args.cert is not None and args.tls is None:
        _usage("--cert and --key need --tls HOST:PORT")
    if args.https is not None and (args.tls is None or args.http is None):
        _usage("--https needs --tls HOST:PORT (its certificate) and the web (--http)")
    options = ServeOptions(
        args.data, sip_host, sip_port, rtp_low, rtp_high, args.demo, args.http,
        args.tls, args.cert, args.key, args.https,
    )  # fmt: skip
    profile = os.environ.get("VAXEL_PROFILE")
    if not profile:
        return serve(options)
    # A developer's tool (bench/README.md): where the switch's time goes, until it stops.
    import cProfile

    profiler = cProfile.Profile()
    try:
        return profiler.runcall(serve, options)
    finally:
        profiler.dump_stats(profile)


def _company_add(args: argparse.Namespace) -> int:
    from vaxel.services import companies

    domain = companies.normalize_domain(args.domain)  # before the data folder is created
    companies.validate_name(args.name)
    with _open(args) as store:
        company = companies.add_company(store, domain, args.name)
    print(f'added company "{company.domain}" ({company.name})')
    return 0


def _company_admin(args: argparse.Namespace) -> int:
    from vaxel.services import accounts

    role = "user" if args.revoke else "admin"
    with _open(args) as store:
        account = accounts.set_user_account(
            store, args.domain, args.ext, password=args.password, role=role
        )
        has_password = args.password is not None or accounts.has_password(store, account.id)
    what = "a company admin" if role == "admin" else "no longer a company admin"
    note = "" if has_password else " (no web password yet: add --password)"
    print(f"{account.login} is {what}{note}")
    return 0


def _admin_add(args: argparse.Namespace) -> int:
    from vaxel.services import accounts

    accounts.validate_email(args.email)
    password = accounts.validate_web_password(_read_password(args.password, "web password"))
    with _open(args) as store:
        account = accounts.add_provider_admin(store, args.email, password)
    print(f"added provider admin {account.login}")
    return 0


def _company_list(args: argparse.Namespace) -> int:
    from vaxel.services import companies

    with _open(args) as store:
        rows = [(c.domain, c.name) for c in companies.list_companies(store)]
    _print_table(("DOMAIN", "NAME"), rows)
    return 0


def _user_add(args: argparse.Namespace) -> int:
    from vaxel.services import companies, users

    users.validate_extension(args.ext)
    companies.validate_name(args.name, "display name")
    ring_seconds = users.validate_ring_seconds(args.ring_time)
    password = users.validate_password(_read_password(args.password))
    with _open(args) as store:
        user = users.add_user(store, args.company, args.ext, args.name, password, ring_seconds)
    print(f'added user {user.extension} ({user.display_name}) to "{args.company.lower()}"')
    return 0


def _user_list(args: argparse.Namespace) -> int:
    from vaxel.services import users

    with _open(args) as store:
        rows = [
            (u.extension, u.display_name, f"{u.ring_seconds} s")
            for u in users.list_users(store, args.company)
        ]
    _print_table(("EXT", "NAME", "RING"), rows)
    return 0


def _user_password(args: argparse.Namespace) -> int:
    from vaxel.services import users

    password = users.validate_password(_read_password(args.password))
    with _open(args) as store:
        users.set_password(store, args.company, args.ext, password)
    print(f"password of {args.ext} changed")
    return 0


def _registrations(args: argparse.Namespace) -> int:
    from vaxel.services import registrations

    now = time.time()
    with _open(args) as store:
        pairs = registrations.list_registrations(store, args.company)
    rows = [
        (ext, b.contact, b.received, f"in {int(b.expires_at - now)} s", b.user_agent)
        for ext, b in pairs
        if b.expires_at > now
    ]
    _print_table(("EXT", "CONTACT", "SOURCE", "EXPIRES", "USER AGENT"), rows)
    return 0


def _minutes(seconds: float) -> str:
    """`m:ss`, rounded to the second (an hour is 60:00)."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def _call_row(record: CallRecordInfo) -> tuple[str, ...]:
    from vaxel.sip.message import REASONS

    caller = f"{record.caller} ({record.caller_name})" if record.caller_name else record.caller
    reason = record.cause_text or REASONS.get(record.cause_code, "")
    return (
        record.started_at.astimezone().isoformat(timespec="seconds"),
        caller,
        record.callee,
        record.answered_by or "-",
        record.disposition,
        _minutes(record.duration_seconds),
        record.hangup_side,
        f"{record.cause_code} {reason}".rstrip(),
    )


def _calls(args: argparse.Namespace) -> int:
    from vaxel.services import call_records

    with _open(args) as store:
        records = call_records.list_records(store, args.company, args.limit)
    headers = ("START", "FROM", "TO", "ANSWERED BY", "DISPOSITION", "DURATION", "HANGUP", "CAUSE")
    _print_table(headers, [_call_row(record) for record in records])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.data is None:
        args.data = DEFAULT_DATA
    try:
        return args.handler(args)
    except ServiceError as error:
        print(f"vaxel: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
