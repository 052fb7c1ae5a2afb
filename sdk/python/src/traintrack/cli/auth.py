"""``traintrack login``, ``logout`` and ``whoami``."""

from __future__ import annotations

import getpass
import sys
from typing import Any, List, Tuple

from .. import WhoAmI
from ..client import DEFAULT_URL
from ._config import remove, save
from ._context import Context, connect
from ._errors import UsageError
from ._format import Result, record
from ._parser import Subcommands, command


def register(commands: Subcommands) -> None:
    command(
        commands,
        "login",
        "check an API key with the server and save it with the URL (mode 0600); the key is read hidden from the "
        "terminal, or from stdin when piped: echo \"$KEY\" | traintrack login --url URL",
        login,
    )  # --url and --api-key are the global options
    logout_parser = command(commands, "logout", "delete the saved login", logout)
    logout_parser.add_argument("--revoke", action="store_true", help="also revoke the saved key on the server first")
    command(commands, "whoami", "show who the key is: organisation, user or service account, key, roles", whoami)


def login(ctx: Context) -> Result:
    url = ctx.url_option or ctx.env.get("TRAINTRACK_URL") or ""
    if not url:
        default = ctx.saved.get("url") or DEFAULT_URL
        url = _ask(ctx, f"Traintrack URL [{default}]: ") if ctx.interactive() else ""
        url = url or default
    url = url.strip().rstrip("/")
    key = ctx.key_option or _read_key(ctx)
    if not key:
        raise UsageError("no API key given: type it at the prompt, or pipe it on stdin")
    client = connect(url, key)
    try:
        me = client.whoami()  # Unauthenticated (exit 3) leaves the saved login as it was
    finally:
        client.close()
    save(ctx.config_path, url, key)
    text = f"Logged in to {url} as {describe_principal(me)}. Saved to {ctx.config_path} (readable only by you)."
    if ctx.env.get("TRAINTRACK_API_KEY"):
        ctx.warn("TRAINTRACK_API_KEY is set: commands use it, not the saved key, until you unset it")
    elif ctx.env.get("TRAINTRACK_URL", url).rstrip("/") != url:
        ctx.warn(f"TRAINTRACK_URL is set to {ctx.env['TRAINTRACK_URL']}: commands use it, not {url}, until you unset it")
    return Result({"url": url, "config": str(ctx.config_path), "whoami": me}, text)


def _ask(ctx: Context, prompt: str) -> str:
    ctx.stderr.write(prompt)
    ctx.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        raise UsageError("no answer on stdin")
    return line.strip()


def _read_key(ctx: Context) -> str:
    """The key, hidden at a terminal, or the first line of stdin when it is piped (never from argv)."""
    try:
        if ctx.interactive():
            return getpass.getpass("API key (input hidden): ", stream=ctx.stderr).strip()
        return sys.stdin.readline().strip() if sys.stdin is not None else ""
    except EOFError:  # Ctrl-D at the prompt
        return ""


def logout(ctx: Context) -> Result:
    revoked = ""
    if ctx.args.revoke and ctx.saved.get("api_key"):
        client = connect(ctx.saved.get("url") or DEFAULT_URL, ctx.saved["api_key"])
        try:
            key = client.whoami().key
            if key is not None:
                client.admin.keys.revoke(key.id)
                revoked = key.id
        finally:
            client.close()
    removed = remove(ctx.config_path)
    if ctx.env.get("TRAINTRACK_API_KEY"):
        ctx.warn("TRAINTRACK_API_KEY is still set in this environment: commands keep using it")
    if removed:
        text = f"Logged out: deleted {ctx.config_path}" + (f"; revoked key {revoked}" if revoked else "") + "."
    else:
        text = f"Not logged in: there is no {ctx.config_path}."
    return Result({"config": str(ctx.config_path), "removed": removed, "revoked_key_id": revoked or None}, text)


def whoami(ctx: Context) -> Result:
    me = ctx.client.whoami()
    fields: List[Tuple[str, Any]] = [("url", ctx.client.url)]
    if me.organization is not None:
        fields.append(("organisation", f"{me.organization.name} ({me.organization.id})"))
    if me.user is not None:
        kind = "service account" if me.user.service_account else "user"
        fields.append((kind, f"{me.user.user_name} ({me.user.id})"))
    if me.key is not None:
        scope = me.key.scope + (f" {me.key.project}" if me.key.project else "")
        fields += [("key", f"{me.key.name} ({me.key.id}, {me.key.prefix}…)"), ("scope", scope), ("expires", me.key.expires_at or "never")]
    fields.append(("role", me.organization_role or "none"))
    for project, role in sorted(me.project_roles.items()):
        fields.append((f"role on {project}", role))
    fields.append(("instance admin", me.instance_admin))
    return Result(me, record(fields))


def describe_principal(me: WhoAmI) -> str:
    """``alice (owner of acme)``, for messages."""
    who = me.user.user_name if me.user is not None else "the instance administrator"
    where = f" of {me.organization.name}" if me.organization is not None else ""
    return f"{who} ({me.organization_role or 'no role'}{where})"
