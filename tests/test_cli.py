"""The `vaxel` command line (P1, P3): run in-process through `main()` with its own stdin,
stdout, stderr and working folder, exactly as the `vaxel` script runs it (one test also runs
it as a subprocess, for the entry point itself)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vaxel.cli import ServeOptions, main
from vaxel.services.call_records import NewCallRecord, write_record
from vaxel.services.registrations import Binding, replace_bindings
from vaxel.services.users import find_sip_user
from vaxel.store import Store

DOMAIN = "acme.example"


def vaxel(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `vaxel ARGS` in `cwd`: its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    saved = os.environ.pop("VAXEL_DATABASE_URL", None)
    here = Path.cwd()
    time.tzset()  # the local time zone as TZ says now, as a new process would read it
    try:
        os.chdir(cwd)
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            _stdin(stdin or ""),
        ):
            try:
                status = main(list(args))
            except SystemExit as exit_:
                status = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.chdir(here)
        time.tzset()
        if saved is not None:
            os.environ["VAXEL_DATABASE_URL"] = saved
    return subprocess.CompletedProcess(["vaxel", *args], status, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _stdin(text: str) -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


def test_the_vaxel_entry_point_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vaxel", "--data", str(tmp_path), "company", "list"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def ok(cwd: Path, *args: str, stdin: str | None = None) -> str:
    result = vaxel(cwd, *args, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def refused(cwd: Path, *args: str, status: int = 1) -> str:
    """Run a command that must fail; returns its one-line error message."""
    result = vaxel(cwd, *args)
    assert result.returncode == status, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vaxel: error: "), result.stderr
    return lines[0]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data folder with company acme.example and user 1001."""
    folder = tmp_path / "data"
    ok(tmp_path, "company", "add", "Acme.Example", "--name", "Acme AB", "--data", str(folder))
    ok(tmp_path, "--data", str(folder), "user", "add", "--company", DOMAIN, "--ext", "1001",
       "--name", "Anna Svensson", "--password", "password-1")  # fmt: skip
    return folder


def users_of(data: Path, domain: str = DOMAIN) -> str:
    return ok(data.parent, "user", "list", "--company", domain, "--data", str(data))


def test_company_and_user_add_then_list(data: Path) -> None:
    out = ok(data.parent, "user", "add", "--company", DOMAIN, "--ext", "1002", "--name",
             "Erik Lindqvist", "--password", "password-2", "--data", str(data))  # fmt: skip
    assert out == f'added user 1002 (Erik Lindqvist) to "{DOMAIN}"\n'
    assert users_of(data).splitlines() == [
        "EXT   NAME            RING",
        "1001  Anna Svensson   30 s",
        "1002  Erik Lindqvist  30 s",
    ]
    assert ok(data.parent, "--data", str(data), "company", "list").splitlines() == [
        "DOMAIN        NAME",
        "acme.example  Acme AB",
    ]
    with Store.open(data) as store:
        user = find_sip_user(store, DOMAIN, "1002")
        assert user is not None and user.display_name == "Erik Lindqvist"


def test_default_data_folder_is_in_the_working_directory(tmp_path: Path) -> None:
    ok(tmp_path, "company", "add", "acme.example", "--name", "Acme AB")
    assert (tmp_path / "vaxel-data" / "vaxel.db").exists()


def test_password_from_stdin_and_password_change(data: Path) -> None:
    ok(data.parent, "user", "add", "--company", DOMAIN, "--ext", "1002", "--name", "Bo",
       "--data", str(data), stdin="piped-password\n")  # fmt: skip
    ok(data.parent, "user", "password", "--company", DOMAIN, "--ext", "1001",
       "--password", "new-password", "--data", str(data))  # fmt: skip
    from vaxel.sip.digest import ha1

    with Store.open(data) as store:
        bo, anna = find_sip_user(store, DOMAIN, "1002"), find_sip_user(store, DOMAIN, "1001")
    assert bo is not None and bo.ha1["MD5"] == ha1("1002", DOMAIN, "piped-password", "MD5")
    assert anna is not None and anna.ha1["MD5"] == ha1("1001", DOMAIN, "new-password", "MD5")


def test_registrations(data: Path) -> None:
    now = time.time()
    with Store.open(data) as store:
        anna = find_sip_user(store, DOMAIN, "1001")
        assert anna is not None
        live = Binding("<sip:1001@192.0.2.4:5062>", now + 300, 1.0, "c1", 1,
                       received="udp:192.0.2.4:5062", user_agent="Linphone/5.2")  # fmt: skip
        gone = Binding("<sip:1001@192.0.2.9>", now - 10, None, "c2", 1)
        replace_bindings(store, anna.company_id, anna.user_id, [live, gone])
    lines = ok(data.parent, "registrations", "--company", DOMAIN, "--data", str(data)).splitlines()
    assert lines[0].split() == ["EXT", "CONTACT", "SOURCE", "EXPIRES", "USER", "AGENT"]
    assert len(lines) == 2
    ext, contact, source, in_, seconds, unit, agent = lines[1].split()
    assert (ext, contact, source, in_, unit, agent) == (
        "1001", "<sip:1001@192.0.2.4:5062>", "udp:192.0.2.4:5062", "in", "s", "Linphone/5.2",
    )  # fmt: skip
    assert 0 < int(seconds) <= 300


def test_unknown_company(data: Path) -> None:
    for args in (
        ("user", "add", "--company", "x.test", "--ext", "1002", "--name", "Bo", "--password",
         "password-2"),
        ("user", "list", "--company", "x.test"),
        ("registrations", "--company", "x.test"),
        ("calls", "--company", "x.test"),
    ):  # fmt: skip
        assert refused(data.parent, *args, "--data", str(data)) == (
            'vaxel: error: unknown company "x.test"'
        )


def test_duplicate_extension_and_company(data: Path) -> None:
    args = ["--company", DOMAIN, "--ext", "1001", "--name", "Someone", "--password", "password-9"]
    message = refused(data.parent, "user", "add", *args, "--data", str(data))
    assert message == f'vaxel: error: extension 1001 already exists in "{DOMAIN}"'
    message = refused(data.parent, "company", "add", "ACME.example", "--name", "X",
                      "--data", str(data))  # fmt: skip
    assert message == f'vaxel: error: company "{DOMAIN}" already exists'
    assert users_of(data).splitlines()[1:] == ["1001  Anna Svensson  30 s"]


@pytest.mark.parametrize(
    ("ext", "password", "message"),
    [
        ("1", "password-2", 'invalid extension "1": use 2 to 8 digits'),
        ("123456789", "password-2", 'invalid extension "123456789": use 2 to 8 digits'),
        ("10a2", "password-2", 'invalid extension "10a2": use 2 to 8 digits'),
        ("1002", "short", "password too short: use at least 8 characters"),
    ],
)
def test_bad_user_input_writes_nothing(data: Path, ext: str, password: str, message: str) -> None:
    before = (data / "vaxel.db").read_bytes()
    args = ["--company", DOMAIN, "--ext", ext, "--name", "Bo", "--password", password]
    error = refused(data.parent, "user", "add", *args, "--data", str(data))
    assert error == f"vaxel: error: {message}"
    assert users_of(data).splitlines()[1:] == ["1001  Anna Svensson  30 s"]
    assert (data / "vaxel.db").read_bytes() == before


def test_ring_time(data: Path) -> None:
    out = ok(data.parent, "user", "add", "--company", DOMAIN, "--ext", "1002", "--name", "Bo",
             "--password", "password-2", "--ring-time", "45", "--data", str(data))  # fmt: skip
    assert out == f'added user 1002 (Bo) to "{DOMAIN}"\n'
    assert users_of(data).splitlines()[1:] == [
        "1001  Anna Svensson  30 s",
        "1002  Bo             45 s",
    ]
    with Store.open(data) as store:
        bo = find_sip_user(store, DOMAIN, "1002")
    assert bo is not None and bo.ring_seconds == 45


@pytest.mark.parametrize("seconds", ["4", "301", "0"])
def test_bad_ring_time_writes_nothing(data: Path, seconds: str) -> None:
    before = (data / "vaxel.db").read_bytes()
    args = ["--company", DOMAIN, "--ext", "1002", "--name", "Bo", "--password", "password-2"]
    error = refused(data.parent, "user", "add", *args, "--ring-time", seconds, "--data", str(data))
    assert error == f"vaxel: error: invalid ring time {seconds}: use 5 to 300 seconds"
    assert (data / "vaxel.db").read_bytes() == before


def test_calls(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    start = datetime(2026, 5, 10, 12, 0, 5, tzinfo=UTC)
    with Store.open(data) as store:
        anna = find_sip_user(store, DOMAIN, "1001")
        assert anna is not None
        write_record(
            store,
            NewCallRecord(
                company_id=anna.company_id,
                call_id="c1",
                caller="1001",
                caller_name="Anna Svensson",
                callee="1002",
                answered_by="1002",
                started_at=start,
                answered_at=start + timedelta(seconds=3),
                ended_at=start + timedelta(seconds=95.6),
                disposition="answered",
                hangup_side="caller",
                cause_code=200,
                cause_text="Normal clearing",
            ),
        )
        write_record(
            store,
            NewCallRecord(
                company_id=anna.company_id,
                call_id="c2",
                caller="sip:+46701234567@carrier.example",
                callee="1001",
                started_at=start + timedelta(hours=1),
                ended_at=start + timedelta(hours=1, seconds=2),
                disposition="busy",
                hangup_side="callee",
                cause_code=486,  # no text: the standard reason phrase
            ),
        )
    # Local time, without the tz database: Central European (summer) time, UTC+2 in May.
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
    lines = ok(data.parent, "calls", "--company", DOMAIN, "--data", str(data)).splitlines()
    assert lines == [
        "START                      FROM                              TO    ANSWERED BY"
        "  DISPOSITION  DURATION  HANGUP  CAUSE",
        "2026-05-10T15:00:05+02:00  sip:+46701234567@carrier.example  1001  -"
        "            busy         0:00      callee  486 Busy Here",
        "2026-05-10T14:00:05+02:00  1001 (Anna Svensson)              1002  1002"
        "         answered     1:33      caller  200 Normal clearing",
    ]  # fmt: skip
    limited = ok(data.parent, "calls", "--company", DOMAIN, "--limit", "1", "--data", str(data))
    assert limited.splitlines()[1:] == [lines[1]]


def test_calls_of_a_company_without_calls(data: Path) -> None:
    out = ok(data.parent, "calls", "--company", DOMAIN, "--data", str(data))
    assert out.split() == ["START", "FROM", "TO", "ANSWERED", "BY", "DISPOSITION", "DURATION",
                           "HANGUP", "CAUSE"]  # fmt: skip


@pytest.mark.parametrize("domain", ["bad_domain", "1.2.3.4", "acme-.example", "acme..example"])
def test_invalid_domain_creates_nothing(tmp_path: Path, domain: str) -> None:
    folder = tmp_path / "data"
    message = refused(tmp_path, "company", "add", domain, "--name", "X", "--data", str(folder))
    assert message == f'vaxel: error: invalid domain "{domain}"'
    assert not folder.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--sip", "127.0.0.1"], 'argument --sip: expected HOST:PORT, got "127.0.0.1"'),
        (["serve", "--sip", "::1:5060"], 'argument --sip: expected HOST:PORT, got "::1:5060"'),
        (["serve", "--sip", "[nope]:80"], 'argument --sip: invalid IPv6 address "nope"'),
        (["serve", "--sip", "host:99999"], "argument --sip: port 99999 out of range 0-65535"),
        (["serve", "--http", "127.0.0.1"], 'argument --http: expected HOST:PORT, got "127.0.0.1"'),
        (["serve", "--rtp-ports", "300"], 'argument --rtp-ports: expected LOW-HIGH, got "300"'),
        (["serve", "--tls", "127.0.0.1"], 'argument --tls: expected HOST:PORT, got "127.0.0.1"'),
        (["serve", "--tls", "h:5061", "--cert", "c.pem"], "--cert and --key go together"),
        (["serve", "--cert", "c.pem", "--key", "k.pem"], "--cert and --key need --tls HOST:PORT"),
        (["serve", "--https", "h:8443"], "--https needs --tls HOST:PORT (its certificate)"),
        (["serve", "--tls", "h:5061", "--https", "h:8443", "--http", "off"],
         "--https needs --tls HOST:PORT (its certificate) and the web (--http)"),
        (["company", "add", "acme.example"], "the following arguments are required: --name"),
        (["user"], "the following arguments are required: ACTION"),
        (["calls", "--company", "a.example", "--limit", "0"],
         'argument --limit: expected a positive whole number, got "0"'),
        (["user", "add", "--company", "a.example", "--ext", "10", "--name", "Bo",
          "--ring-time", "20s"], 'argument --ring-time: expected whole seconds, got "20s"'),
        (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate' (choose from "),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    assert refused(tmp_path, *args, status=2).startswith(f"vaxel: error: {message}")
    assert list(tmp_path.iterdir()) == []


def test_help(tmp_path: Path) -> None:
    assert "registrations" in ok(tmp_path, "--help")
    assert "calls" in ok(tmp_path, "--help")
    assert "--ring-time" in ok(tmp_path, "user", "add", "--help")
    assert "--rtp-ports" in ok(tmp_path, "serve", "--help")


def test_serve_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`serve` hands validated options to vaxel.app.serve (replaced here: no sockets)."""
    import vaxel.app

    seen: list[ServeOptions] = []
    monkeypatch.setattr(vaxel.app, "serve", lambda options: seen.append(options) or 7)
    assert main(["serve"]) == 7
    assert main(["--data", str(tmp_path), "serve", "--sip", "[::1]:5070",
                 "--rtp-ports", "30000-30099", "--demo", "--http", "[::1]:0"]) == 7  # fmt: skip
    assert main(["serve", "--http", "off"]) == 7
    assert main(["serve", "--tls", "127.0.0.1:5061"]) == 7
    assert main(["serve", "--tls", "[::1]:5061", "--cert", "c.pem", "--key", "k.pem"]) == 7
    assert seen[3:] == [
        ServeOptions(Path("vaxel-data"), "127.0.0.1", 5060, 20000, 29999, False,
                     ("127.0.0.1", 8080), ("127.0.0.1", 5061)),
        ServeOptions(Path("vaxel-data"), "127.0.0.1", 5060, 20000, 29999, False,
                     ("127.0.0.1", 8080), ("::1", 5061), Path("c.pem"), Path("k.pem")),
    ]  # fmt: skip
    del seen[3:]
    assert seen == [
        ServeOptions(Path("vaxel-data"), "127.0.0.1", 5060, 20000, 29999, False,
                     ("127.0.0.1", 8080)),
        ServeOptions(tmp_path, "::1", 5070, 30000, 30099, True, ("::1", 0)),
        ServeOptions(Path("vaxel-data"), "127.0.0.1", 5060, 20000, 29999, False, None),
    ]  # fmt: skip


# -- config apply / export (P7, O2) -------------------------------------------------------------

DESCRIBED = """
company: {domain: acme.example, name: Acme AB}
users:
  - {ext: "1001", name: Anna Svensson, voicemail: {pin: "4711"}}
numbers:
  - {number: "08-123 456 00", flow: main}
prompts:
  welcome: {file: PROMPT}
flows:
  main: {welcome: welcome, destination: {user: "1001"}}
trunks:
  carrier: {host: 192.0.2.10, registration: {username: acme, password: register-secret-2}}
"""


def _sound(path: Path) -> None:
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(path), "synth", "0.5", "sine",
                    "440"], check=True)  # fmt: skip


@pytest.fixture
def company_folder(tmp_path: Path) -> Path:
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed (make test installs it)")
    folder = tmp_path / "acme"
    folder.mkdir()
    _sound(folder / "welcome.wav")
    _sound(tmp_path / "outside.wav")  # a file of the server's, not of the company
    return folder


@pytest.mark.parametrize("name", ["../outside.wav", "ABSOLUTE", "link.wav"])
def test_config_apply_reads_prompt_files_only_inside_the_companys_folder(
    data: Path, company_folder: Path, name: str
) -> None:
    outside = company_folder.parent / "outside.wav"
    (company_folder / "link.wav").symlink_to(outside)
    name = str(outside) if name == "ABSOLUTE" else name
    (company_folder / "acme.yaml").write_text(DESCRIBED.replace("PROMPT", repr(name)))
    result = vaxel(company_folder, "config", "apply", "acme.yaml", "--data", str(data))
    assert result.returncode == 1, result.stdout
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "vaxel: error: acme.yaml is not applied; nothing changed:"
    assert len(lines) == 2 and lines[1].startswith("  prompts.welcome.file: "), lines
    assert not (data / "prompts" / "acme.example" / "welcome.wav").exists()


def test_config_export_shows_no_secret_and_applies_back(data: Path, company_folder: Path) -> None:
    (company_folder / "acme.yaml").write_text(DESCRIBED.replace("PROMPT", "welcome.wav"))
    ok(company_folder, "config", "apply", "acme.yaml", "--data", str(data))
    assert (data / "prompts" / "acme.example" / "welcome.wav").exists()
    exported = ok(company_folder, "config", "export", DOMAIN, "--data", str(data))
    assert "4711" not in exported and "register-secret-2" not in exported
    assert exported.startswith("# ")  # says that secrets are left out, and kept
    (company_folder / "again.yaml").write_text(exported)
    assert "version 2" in ok(company_folder, "config", "apply", "again.yaml", "--data", str(data))
    assert ok(company_folder, "config", "export", DOMAIN, "--data", str(data)) == exported


# -- web logins (P8) ----------------------------------------------------------------------------


def test_admin_add_makes_a_provider_admin_who_can_log_in(data: Path) -> None:
    from vaxel.services.accounts import authenticate

    d = ("--data", str(data))
    out = ok(data.parent, "admin", "add", "Ops@Provider.example", "--password", "long enough", *d)
    assert out == "added provider admin ops@provider.example\n"
    from_stdin = ok(data.parent, "admin", "add", "two@provider.example", *d, stdin="second pw!\n")
    assert from_stdin == "added provider admin two@provider.example\n"
    assert refused(data.parent, "admin", "add", "ops@provider.example", "--password", "x" * 9, *d
                   ) == "vaxel: error: ops@provider.example already has an account"  # fmt: skip
    assert refused(data.parent, "admin", "add", "not-an-email", "--password", "x" * 9, *d
                   ) == 'vaxel: error: invalid e-mail address "not-an-email"'  # fmt: skip
    assert "too short" in refused(data.parent, "admin", "add", "a@b.example", "--password", "x", *d)
    with Store.open(data) as store:
        account = authenticate(store, "ops@provider.example", "long enough")
        assert account is not None and account.role == "provider"
        assert authenticate(store, "two@provider.example", "second pw!") is not None


def test_company_admin_makes_a_user_an_admin_and_back(data: Path) -> None:
    from vaxel.services.accounts import authenticate

    d = ("--data", str(data))
    out = ok(data.parent, "company", "admin", DOMAIN, "--ext", "1001", *d)
    assert out == "1001@acme.example is a company admin (no web password yet: add --password)\n"
    out = ok(data.parent, "company", "admin", DOMAIN, "--ext", "1001", "--password", "web pass 1",
             *d)  # fmt: skip
    assert out == "1001@acme.example is a company admin\n"
    with Store.open(data) as store:
        account = authenticate(store, "1001@acme.example", "web pass 1")
        assert account is not None and account.role == "admin"
    out = ok(data.parent, "company", "admin", DOMAIN, "--ext", "1001", "--revoke", *d)
    assert out == "1001@acme.example is no longer a company admin\n"
    assert refused(data.parent, "company", "admin", DOMAIN, "--ext", "1099", *d
                   ) == "vaxel: error: unknown user 1099"  # fmt: skip
    assert refused(data.parent, "company", "admin", "nowhere.example", "--ext", "1001", *d
                   ) == 'vaxel: error: unknown company "nowhere.example"'  # fmt: skip
