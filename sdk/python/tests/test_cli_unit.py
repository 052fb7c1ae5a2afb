"""The command line's pure parts, without a server: durations, tables, the login file, errors and exit codes."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import grpc
import pytest

import traintrack as tt
from traintrack.cli import auth, main
from traintrack.cli._config import config_path, load, resolve, save
from traintrack.cli._errors import CliError, explain
from traintrack.cli._format import jsonable, parse_duration, parse_moment, record, table

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc)


def run_cli(args: List[str], env: Dict[str, str]) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, env=env, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def env(tmp_path: Path) -> Dict[str, str]:
    """An environment with no settings but an empty config home of its own."""
    return {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config")}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("12h", 43200), ("30d", 30 * 86400), ("2w", 14 * 86400), ("1h30m", 5400), (" 7D ", 7 * 86400)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "30", "d", "3x", "0s", "-1h", "1.5h", "1h 30m", "h1"])
def test_bad_durations_are_usage_errors_that_show_the_forms(text: str) -> None:
    with pytest.raises(CliError, match="invalid duration|longer than zero") as raised:
        parse_duration(text)
    assert raised.value.code == 2


def test_moments_are_durations_ago_or_ahead_or_iso_dates() -> None:
    assert parse_moment("1h", now=NOW, ago=True) == NOW - timedelta(hours=1)
    assert parse_moment("30d", now=NOW, ago=False) == NOW + timedelta(days=30)
    assert parse_moment("2026-12-31", ago=False) == datetime(2026, 12, 31, tzinfo=timezone.utc)
    assert parse_moment("2026-12-31T18:00Z", ago=False) == datetime(2026, 12, 31, 18, tzinfo=timezone.utc)
    assert parse_moment("2026-12-31T18:00+02:00", ago=False) == datetime(2026, 12, 31, 16, tzinfo=timezone.utc)
    with pytest.raises(CliError, match="invalid time 'yesterday'"):
        parse_moment("yesterday", ago=True)


def test_tables_align_columns_and_show_nothing_as_a_dash() -> None:
    text = table(("ID", "NAME", "ACTIVE", "CREATED"), [("u_1", "alice", True, NOW), ("u_22", None, False, None)])
    assert text.splitlines() == [
        "ID    NAME   ACTIVE  CREATED",
        "u_1   alice  yes     2026-11-30 12:00:00Z",
        "u_22  -      no      -",
    ]
    assert table(("A", "B"), []) == "A  B"
    assert record([("id", "u_1"), ("user name", "alice")]).splitlines() == ["id:         u_1", "user name:  alice"]


def test_json_holds_every_field_times_in_utc_and_the_secret() -> None:
    key = tt.ApiKey("k_1", "ci", "tt_ab", "u_1", "all", "", NOW, None, None, None)
    data = jsonable(tt.NewApiKey(key, "tt_secret"))
    assert data["secret"] == "tt_secret"
    assert data["key"]["created_at"] == "2026-11-30T12:00:00Z" and data["key"]["expires_at"] is None
    json.dumps(data)


def test_the_login_file_honours_xdg_config_home_and_is_private(tmp_path: Path) -> None:
    assert config_path({"XDG_CONFIG_HOME": str(tmp_path / "x"), "HOME": "/nowhere"}) == tmp_path / "x" / "traintrack" / "config.json"
    # A relative XDG_CONFIG_HOME is ignored, as the XDG spec says.
    assert config_path({"XDG_CONFIG_HOME": "relative", "HOME": str(tmp_path)}) == tmp_path / ".config" / "traintrack" / "config.json"
    assert config_path({"HOME": str(tmp_path)}) == tmp_path / ".config" / "traintrack" / "config.json"

    path = tmp_path / "x" / "traintrack" / "config.json"
    old_umask = os.umask(0)  # even a permissive umask does not open the file to others
    try:
        save(path, "http://tt:8080", "tt_key_1")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load(path) == {"url": "http://tt:8080", "api_key": "tt_key_1"}

    path.chmod(0o644)
    save(path, "http://tt:8080", "tt_key_2")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load(path)["api_key"] == "tt_key_2"
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temporary file left


def test_a_broken_login_file_says_how_to_fix_it(tmp_path: Path) -> None:
    assert load(tmp_path / "absent.json") == {}
    broken = tmp_path / "config.json"
    broken.write_text("{not json")
    with pytest.raises(CliError, match="not valid JSON.*traintrack logout"):
        load(broken)


def test_options_beat_the_environment_which_beats_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    saved = {"url": "http://saved:1", "api_key": "saved-key"}
    s = resolve(None, None, {}, saved, path)
    assert (s.url, s.api_key) == ("http://saved:1", "saved-key")
    s = resolve(None, None, {"TRAINTRACK_API_KEY": "env-key"}, saved, path)
    assert (s.url, s.api_key) == ("http://saved:1", "env-key")
    s = resolve("http://option:3", "option-key", {"TRAINTRACK_URL": "http://env:2", "TRAINTRACK_API_KEY": "env-key"}, saved, path)
    assert (s.url, s.api_key) == ("http://option:3", "option-key")
    assert resolve(None, None, {}, {}, path).url == "http://localhost:8080"


def test_the_saved_key_is_never_sent_to_another_server(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    s = resolve(None, None, {"TRAINTRACK_URL": "http://elsewhere:1"}, {"url": "http://saved:1", "api_key": "saved-key"}, path)
    assert s.api_key is None
    with pytest.raises(CliError, match="is for http://saved:1, not http://elsewhere:1") as raised:
        s.require_key()
    assert raised.value.code == 3


@pytest.mark.parametrize(
    ("error", "code", "says"),
    [
        (tt.Unauthenticated("the API key is not valid"), 3, "not authenticated at http://tt:1: the API key is not valid; run 'traintrack login'"),
        (tt.PermissionDenied("owner role needed"), 4, "permission denied: owner role needed; 'traintrack whoami'"),
        (tt.NotFound("user u_1 not found"), 5, "not found: user u_1 not found"),
        (tt.InvalidArgument("bad user name"), 2, "invalid request: bad user name"),
        (tt.Unavailable("failed to connect"), 1, "cannot reach the Traintrack server at http://tt:1"),
        (tt.AlreadyExists("alice exists"), 1, "already exists: alice exists"),
        (tt.FailedPrecondition("last owner"), 1, "refused: last owner"),
        (tt.TraintrackError("odd", grpc.StatusCode.UNKNOWN), 1, "odd"),
        (KeyboardInterrupt(), 130, "interrupted"),
        (CliError("usage", 2), 2, "usage"),
        (RuntimeError("boom"), 1, "unexpected RuntimeError: boom"),
    ],
)
def test_errors_map_to_exit_codes_and_one_line(error: BaseException, code: int, says: str) -> None:
    got_code, message = explain(error, "http://tt:1")
    assert got_code == code
    assert message.startswith(says)
    assert "\n" not in message


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["users"], "required: COMMAND"),
        (["users", "create"], "required: USER_NAME"),
        (["users", "create", "alice", "--role", "god"], "invalid choice: 'god'"),
        (["grants", "add", "--role", "editor"], "one of the arguments --user --group is required"),
        (["grants", "add", "--user", "a", "--group", "b", "--role", "viewer"], "not allowed with argument"),
        (["keys", "create"], "required: --name"),
        (["keys", "create", "--name", "ci", "--expires", "soon"], "invalid time 'soon'"),
        (["keys", "create", "--name", "ci", "--scope", "project"], "--scope project needs --project"),
        (["audit", "--limit", "many"], "invalid int value"),
        (["runs", "ls"], "required: --project"),
    ],
)
def test_usage_errors_exit_2_with_one_line(env: Dict[str, str], args: List[str], says: str) -> None:
    code, out, err = run_cli(args, {**env, "TRAINTRACK_API_KEY": "k", "TRAINTRACK_URL": "http://127.0.0.1:9"})
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("traintrack: error: "), err
    assert says in err


def test_global_options_go_before_or_after_the_command(env: Dict[str, str]) -> None:
    for args in (["--json", "keys", "create", "--scope", "project", "--name", "x"], ["keys", "create", "--json", "--scope", "project", "--name", "x"]):
        code, _, err = run_cli(args, env)
        assert code == 2 and "--scope project needs --project" in err


def test_no_key_is_exit_3_and_says_to_log_in(env: Dict[str, str]) -> None:
    code, out, err = run_cli(["whoami"], env)
    assert (code, out) == (3, "")
    assert err == "traintrack: error: no API key for http://localhost:8080: run 'traintrack login', or set TRAINTRACK_API_KEY\n"


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A loopback URL that refuses connections: a bound port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_server_that_is_down_is_named_in_one_line(env: Dict[str, str], refused_url: str) -> None:
    code, out, err = run_cli(["users", "ls"], {**env, "TRAINTRACK_URL": refused_url, "TRAINTRACK_API_KEY": "k"})
    assert (code, out) == (1, "")
    assert err.startswith(f"traintrack: error: cannot reach the Traintrack server at {refused_url} (")
    assert err.count("\n") == 1


def test_the_api_key_option_warns_that_it_shows_in_the_process_list(env: Dict[str, str], refused_url: str) -> None:
    _, _, err = run_cli(["--api-key", "k", "--url", refused_url, "whoami"], env)
    assert "traintrack: warning: --api-key shows the key in the process list" in err


def test_ctrl_c_is_one_line_and_exit_130(env: Dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(ctx: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(auth, "whoami", interrupted)
    code, out, err = run_cli(["whoami"], {**env, "TRAINTRACK_API_KEY": "k"})
    assert (code, out, err) == (130, "", "traintrack: error: interrupted\n")


def test_login_without_a_key_on_stdin_is_a_usage_error(env: Dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, out, err = run_cli(["login", "--url", "http://127.0.0.1:9"], env)
    assert (code, out) == (2, "")
    assert err == "traintrack: error: no API key given: type it at the prompt, or pipe it on stdin\n"
    assert not config_path(env).exists()


def test_logout_without_a_login_is_fine(env: Dict[str, str]) -> None:
    code, out, _ = run_cli(["logout"], env)
    assert code == 0 and "Not logged in" in out


def test_the_command_is_installed_and_runs_as_a_module_without_tracebacks(env: Dict[str, str]) -> None:
    entry = shutil.which("traintrack", path=str(Path(sys.executable).parent))
    assert entry, "pip install did not install the traintrack command"
    assert subprocess.run([entry, "--help"], capture_output=True, timeout=60).returncode == 0
    done = subprocess.run([sys.executable, "-m", "traintrack.cli", "users", "create"], capture_output=True, text=True, env={**os.environ, **env}, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("traintrack: error: ") and "Traceback" not in done.stderr
