"""``traintrack models …``: the model registry: list models, show a version, move an alias, read an alias's history.

Register versions with the Python SDK (``run.log_model``, ``client.models.register``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from .. import AliasHistory, ModelVersion, RegisteredModel
from ._context import Context
from ._errors import UsageError
from ._format import Result, jsonable, parse_moment, record, rows_result, show, table
from ._parser import Subcommands, command, group
from .browse import _first
from .users import user_names


def register(commands: Subcommands) -> None:
    models = group(commands, "models", "the model registry (register versions with the Python SDK: run.log_model)")
    ls = command(models, "ls", "list models by name, with their latest version and aliases", list_models, aliases=("list",))
    ls.add_argument("--project", default="", help="only this project's models")
    ls.add_argument("--prefix", default="", help="only names starting with this")
    ls.add_argument("--limit", type=int, default=0, help="at most this many (default: all)")
    show_ = command(models, "show", "show a version (default: the latest): metadata, files, the model's aliases", show_model)
    show_.add_argument("name", metavar="NAME")
    which = show_.add_mutually_exclusive_group()
    which.add_argument("--version", type=int, metavar="N", help="this version")
    which.add_argument("--alias", metavar="ALIAS", help="the version this alias points to, e.g. production")
    alias = command(models, "alias", "point an alias at a version (creating or moving it); the move is kept in its history", set_alias)
    alias.add_argument("name", metavar="NAME")
    alias.add_argument("alias", metavar="ALIAS", help="lower-case letters, digits, _ and -, starting with a letter")
    alias.add_argument("version", type=int, metavar="VERSION")
    alias.add_argument("--reason", default="", help="why, for the history, e.g. 'auc 0.93 on holdout'")
    protect = alias.add_mutually_exclusive_group()
    protect.add_argument("--protect", dest="protected", action="store_const", const=True, help="only maintainers of the model may move it from now on")
    protect.add_argument("--unprotect", dest="protected", action="store_const", const=False, help="lift the protection (maintainers)")
    history = command(models, "history", "the moves of an alias (or of every alias of the model), newest first", alias_history)
    history.add_argument("name", metavar="NAME")
    history.add_argument("alias", metavar="ALIAS", nargs="?", help="default: every alias")
    history.add_argument("--at", metavar="WHEN", help="also say which version ALIAS pointed to then: a date/time (2026-03-03T12:00Z) or that long ago (7d)")


def list_models(ctx: Context) -> Result:
    a = ctx.args
    found: List[RegisteredModel] = _first(ctx.client.models.list(a.project, a.prefix), a.limit)
    return rows_result(
        found,
        ("NAME", "PROJECT", "LATEST", "ALIASES", "UPDATED", "DESCRIPTION"),
        lambda m: (m.name, m.project, m.latest_version or "", _aliases(m), m.updated_at, m.description.split("\n", 1)[0]),
    )


def _aliases(model: RegisteredModel) -> str:
    return ", ".join(f"{a.alias}={a.version}" for a in model.aliases)


def version_document(v: ModelVersion) -> Dict[str, Any]:
    """A version as --json prints it: every public attribute, files included."""
    fields = ("name", "version", "run_id", "framework", "signature", "description", "tags", "file_count", "total_size", "aliases", "created_at", "created_by")
    document = {f: jsonable(getattr(v, f)) for f in fields}
    document["files"] = jsonable(v.files)
    return document


def show_model(ctx: Context) -> Result:
    a = ctx.args
    models = ctx.client.models
    model = models.get_model(a.name)
    v = models.get(a.name, version=a.version, alias=a.alias)
    fields: List[Tuple[str, Any]] = [
        ("model", v.name), ("version", v.version), ("project", model.project), ("aliases", ", ".join(v.aliases)),
        ("framework", v.framework), ("run", v.run_id), ("created", v.created_at), ("created by", v.created_by),
        ("files", f"{v.file_count} ({v.total_size} bytes)"), ("tags", ", ".join(f"{k}={t}" for k, t in sorted(v.tags.items()))),
        ("signature", v.signature_text), ("description", v.description),
    ]  # fmt: skip
    parts = [record(fields), "", table(("PATH", "SIZE", "SHA256", "MEDIA TYPE"), [(f.name, f.size, f.sha256, f.media_type) for f in v.files])]
    if model.aliases:
        parts += ["", table(("ALIAS", "VERSION", "PROTECTED", "UPDATED"), [(x.alias, x.version, x.protected, x.updated_at) for x in model.aliases])]
    return Result({"model": model, "version": version_document(v)}, "\n".join(parts))


def set_alias(ctx: Context) -> Result:
    a = ctx.args
    if a.version < 1:
        raise UsageError(f"VERSION must be a version number (1 or more), not {a.version}")
    change = ctx.client.models.set_alias(a.name, a.alias, a.version, reason=a.reason, protected=a.protected)
    before = f"from version {change.previous_version}" if change.previous_version else "(new)"
    protected = " It is protected." if change.alias.protected else ""
    return Result(change, f"{a.name}: {a.alias} points to version {change.alias.version} {before}.{protected}")


def alias_history(ctx: Context) -> Result:
    a = ctx.args
    if a.at and not a.alias:
        raise UsageError("--at needs an ALIAS: traintrack models history NAME ALIAS --at WHEN")
    at = parse_moment(a.at, ago=True) if a.at else None
    history: AliasHistory = ctx.client.models.alias_history(a.name, a.alias, at=at)
    names = {} if ctx.json or not history.moves else user_names(ctx.client)
    lines = []
    if at is not None:
        then = f"version {history.version_at}" if history.version_at else "no version"
        lines += [f"{a.alias} pointed to {then} at {show(at)}.", ""]
    lines.append(
        table(
            ("TIME", "ALIAS", "FROM", "TO", "USER", "KEY", "REASON"),
            [(m.time, m.alias, m.from_version, m.to_version if m.to_version else "(deleted)", names.get(m.user_id, m.user_id), m.key_id, m.reason) for m in history],
        )
    )
    return Result(history, "\n".join(lines))
