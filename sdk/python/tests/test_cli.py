"""The ``traintrack`` command line as a subprocess against the real server: what an administrator and a script see."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
from support.server import ServerProcess, unique

import traintrack as tt


class Cli:
    """Runs ``python -m traintrack.cli`` with a config home of its own and the server's URL (and, by default, its key)."""

    def __init__(self, server: ServerProcess, home: Path) -> None:
        self.server = server
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINTRACK_")}
        self.env.update(XDG_CONFIG_HOME=str(home), HOME=str(home), TRAINTRACK_URL=server.url)
        self.config = home / "traintrack" / "config.json"

    def __call__(self, *args: str, key: Optional[str] = "", stdin: str = "", code: int = 0) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if key is not None:
            env["TRAINTRACK_API_KEY"] = key or self.server.api_key
        done = subprocess.run(
            [sys.executable, "-m", "traintrack.cli", *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
        )
        assert done.returncode == code, f"traintrack {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        if code:
            assert done.stdout == "" and done.stderr.splitlines()[-1].startswith("traintrack: error: "), done.stderr
        return done

    def json(self, *args: str, key: Optional[str] = "") -> Any:
        return json.loads(self("--json", *args, key=key).stdout)


@pytest.fixture
def cli(server: ServerProcess, tmp_path: Path) -> Cli:
    return Cli(server, tmp_path / "config-home")


def test_login_checks_the_key_saves_it_privately_and_logout_forgets_it(cli: Cli) -> None:
    cli("login", "--url", cli.server.url, key=None, stdin="tt_not_a_key\n", code=3)
    assert not cli.config.exists()

    done = cli("login", "--url", cli.server.url, key=None, stdin=cli.server.api_key + "\n")
    assert "Logged in to" in done.stdout and cli.server.api_key not in done.stdout + done.stderr
    assert stat.S_IMODE(cli.config.stat().st_mode) == 0o600
    assert json.loads(cli.config.read_text()) == {"url": cli.server.url, "api_key": cli.server.api_key}
    me = cli.json("whoami", key=None)  # from the file alone
    assert me["organization_role"] == "owner" and me["instance_admin"] is True

    cli("logout", key=None)
    assert not cli.config.exists()
    assert "no API key" in cli("whoami", key=None, code=3).stderr


def test_logout_can_revoke_the_saved_key(cli: Cli) -> None:
    laptop = cli("keys", "create", "--name", "laptop", "--expires", "1h").stdout.strip()
    cli("login", key=None, stdin=laptop + "\n")
    assert cli.json("whoami", key=None)["key"]["name"] == "laptop"
    assert "revoked key" in cli("logout", "--revoke", key=None).stdout
    assert not cli.config.exists()
    cli("whoami", key=laptop, code=3)
    cli("whoami")  # the bootstrap key still works


def test_an_administrator_creates_a_user_and_a_service_account_key_then_revokes_it(cli: Cli) -> None:
    alice = unique("alice")
    user = cli.json("users", "create", alice, "--role", "editor", "--email", f"{alice}@example.com", "--display-name", "Alice")
    assert user["user_name"] == alice and user["active"] is True and user["id"].startswith("u_")
    assert alice in cli("users", "ls").stdout
    assert cli.json("users", "get", alice)["id"] == user["id"]
    assert [g["role"] for g in cli.json("grants", "ls", "--user", alice)] == ["editor"]

    account = unique("ci")
    cli("service-accounts", "create", account, "--role", "editor")
    done = cli("keys", "create", "--user", account, "--name", "ci", "--expires", "30d")
    secret = done.stdout.splitlines()[-1]
    assert done.stdout == secret + "\n", "a script's $(traintrack keys create ...) must capture the secret alone"
    assert "shown once" in done.stderr

    me = cli.json("whoami", key=secret)
    assert me["user"]["user_name"] == account and me["user"]["service_account"] is True
    assert me["key"]["expires_at"] and me["organization_role"] == "editor"
    keys = cli.json("keys", "ls", "--user", account)
    assert [k["id"] for k in keys] == [me["key"]["id"]] and "secret" not in keys[0]

    assert "Revoked" in cli("keys", "revoke", me["key"]["id"]).stdout
    refused = cli("whoami", key=secret, code=3)
    assert refused.stderr.splitlines() == [refused.stderr.strip()] and "traintrack login" in refused.stderr


def test_groups_and_project_grants(cli: Cli) -> None:
    bob, team, project = unique("bob"), unique("ml"), unique("churn")
    cli("users", "create", bob)
    group = cli.json("groups", "create", team, "--member", bob)
    assert group["member_count"] == 1
    assert [g["display_name"] for g in cli.json("groups", "ls", "--member", bob)] == [team]
    grant = cli.json("grants", "add", "--group", team, "--role", "maintainer", "--project", project)
    assert (grant["role"], grant["project"], grant["group_id"]) == ("maintainer", project, group["id"])
    table = cli("grants", "ls", "--project", project).stdout
    assert f"group {team}" in table and "maintainer" in table
    assert cli.json("grants", "revoke", grant["id"]) == {"revoked": True}
    assert cli.json("groups", "remove-members", team, bob)["member_count"] == 0
    cli("groups", "delete", team)
    cli("groups", "members", team, code=5)


def test_what_a_role_may_not_do_is_exit_4_and_what_is_absent_exit_5(cli: Cli) -> None:
    viewer = unique("viewer")
    cli("users", "create", viewer, "--role", "viewer")
    secret = cli("keys", "create", "--user", viewer, "--name", "laptop").stdout.strip()
    denied = cli("users", "create", unique("sneaky"), key=secret, code=4)
    assert "permission denied" in denied.stderr
    cli("users", "get", unique("nobody"), code=5)
    cli("users", "create", "bad name!", code=2)


def test_audit_shows_the_last_hour(cli: Cli) -> None:
    name = unique("audited")
    user = cli.json("users", "create", name)
    events = cli.json("audit", "--since", "1h", "--resource", f"user/{user['id']}", "--limit", "10")
    assert [e["outcome"] for e in events if e["method"].endswith("CreateUser")] == ["ok"]
    assert "CreateUser" in cli("audit", "--since", "1h", "--limit", "5").stdout


def test_datasets_and_runs_for_the_everyday_look(cli: Cli, client: tt.Client) -> None:
    name, project = unique("cli-ds"), unique("cli-proj")
    client.datasets.save(tt.Dataset(name=name, version="1.0.0", description="for the CLI"))
    with client.start_run(project=project, experiment="exp", name="first"):
        pass
    datasets: Dict[str, Any] = {d["name"]: d for d in cli.json("datasets", "ls", "--prefix", name)}
    assert datasets[name]["latest_version"] == "1.0.0"
    runs = cli.json("runs", "ls", "--project", project)
    assert [(r["name"], r["status"]) for r in runs] == [("first", "finished")]
    assert "first" in cli("runs", "ls", "--project", project).stdout


def test_the_instance_admin_creates_an_organisation(cli: Cli) -> None:
    org = unique("acme")
    done = cli("orgs", "create", org, "--owner", "boss")
    owner_key = done.stdout.strip()
    assert "shown once" in done.stderr
    assert org in [o["name"] for o in cli.json("orgs", "ls")]
    me = cli.json("whoami", key=owner_key)
    assert me["organization"]["name"] == org and me["user"]["user_name"] == "boss"
    cli("orgs", "ls", key=owner_key, code=4)
