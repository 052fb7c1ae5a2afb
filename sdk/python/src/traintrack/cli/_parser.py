"""The argparse pieces every command module uses: one-line usage errors, global options anywhere, leaves that name their handler."""

from __future__ import annotations

import argparse
from typing import Any, Callable, NoReturn

from ._context import Context
from ._errors import UsageError
from ._format import Result

Handler = Callable[[Context], Result]
Subcommands = Any  # argparse's _SubParsersAction, which typeshed types as generic and private


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit 2 through main's error handling, never usage dumps."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def global_options() -> Parser:
    """--json, --url and --api-key, accepted before or after the command.

    Their defaults are SUPPRESS so that a subcommand's copy of an option does
    not overwrite what was given before the command with its default.
    """
    parent = Parser(add_help=False)
    parent.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON document (for scripts)")
    parent.add_argument("--url", default=argparse.SUPPRESS, metavar="URL", help="the server (default: TRAINTRACK_URL, the login file, http://localhost:8080)")
    parent.add_argument(
        "--api-key",
        default=argparse.SUPPRESS,
        metavar="KEY",
        help="the API key; visible to other users in the process list, prefer TRAINTRACK_API_KEY or 'traintrack login'",
    )
    return parent


GLOBALS = global_options()


def group(subcommands: Subcommands, name: str, help: str) -> Subcommands:
    """A command with subcommands of its own, e.g. ``users``."""
    parser = subcommands.add_parser(name, help=help, description=help, parents=[GLOBALS])
    return parser.add_subparsers(title="commands", dest=f"{name}_command", metavar="COMMAND", required=True)


def command(subcommands: Subcommands, name: str, help: str, run: Handler, *, aliases: tuple[str, ...] = ()) -> Parser:
    """A leaf command whose handler is ``run``."""
    parser: Parser = subcommands.add_parser(name, help=help, description=help, parents=[GLOBALS], aliases=list(aliases))
    parser.set_defaults(run=run)
    return parser
