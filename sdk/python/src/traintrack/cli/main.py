"""``traintrack``: the command line for administrators and scripts.

Every failure prints one line, ``traintrack: error: <what happened and what to
do>``, on stderr and exits non-zero (codes in _errors.py); never a traceback,
unless TRAINTRACK_DEBUG=1 asks for one. With --json, stdout holds exactly one
JSON document; notes for the person (such as "shown once") go to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import List, Mapping, Optional, TextIO

from . import audit, auth, browse, grants, groups, keys, models, orgs, pipelines, users
from ._context import Context
from ._errors import EXIT_OTHER, explain
from ._format import to_json
from ._parser import GLOBALS, Parser

_EPILOG = """\
Settings: --url / --api-key, else TRAINTRACK_URL / TRAINTRACK_API_KEY, else the file 'traintrack login' writes
($XDG_CONFIG_HOME/traintrack/config.json, by default ~/.config/traintrack/config.json).
Exit codes: 0 ok, 1 other failure, 2 usage or invalid request, 3 not authenticated, 4 permission denied, 5 not found, 130 interrupted.
"""


def build_parser() -> Parser:
    parser = Parser(
        prog="traintrack",
        description="Manage a Traintrack server: users, groups, roles, API keys, the audit log; list datasets, runs and models; move model aliases; draw pipeline runs.",
        epilog=_EPILOG,
        parents=[GLOBALS],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", required=True)
    for module in (auth, users, groups, grants, keys, audit, orgs, browse, models, pipelines):
        module.register(commands)
    return parser


def main(argv: Optional[List[str]] = None, *, env: Optional[Mapping[str, str]] = None, stdout: Optional[TextIO] = None, stderr: Optional[TextIO] = None) -> int:
    """Runs one command; returns its exit code. The arguments default to the process's own (tests pass theirs)."""
    env = os.environ if env is None else env
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    ctx: Optional[Context] = None
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exit:  # --help and --version print and exit 0
            return int(exit.code or 0)
        ctx = Context(args, env, out, err)
        if ctx.key_option:
            ctx.warn("--api-key shows the key in the process list to every user of this machine; prefer TRAINTRACK_API_KEY or 'traintrack login'")
        result = args.run(ctx)
        if result.note:
            ctx.note(result.note)
        text = to_json(result.data) if ctx.json else result.text
        if text:
            print(text, file=out)
            out.flush()
        return 0
    except BrokenPipeError:
        # The reader went away (`traintrack audit | head`): nothing left to say to it.
        _silence_stdout()
        return EXIT_OTHER
    except BaseException as error:  # Ctrl-C included: one line, never a traceback
        if isinstance(error, SystemExit):
            raise
        code, message = explain(error, ctx.url if ctx is not None else env.get("TRAINTRACK_URL", "the server"))
        if env.get("TRAINTRACK_DEBUG") == "1":
            traceback.print_exc(file=err)
        print(f"traintrack: error: {message}", file=err)
        return code
    finally:
        if ctx is not None:
            try:
                ctx.close()
            except Exception:
                pass  # closing a channel cannot change what the command did


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run() -> None:
    """The ``traintrack`` entry point."""
    sys.exit(main())
