"""``docs/cli.md``, generated from the app itself: ``python -m geokb.cli.docs``.

Every command, argument, option, default and environment variable is read from the click
command tree that typer builds, and the exit codes from :mod:`geokb.cli.errors`, so the
reference cannot drift from the code (``tests/cli/test_docs.py`` fails when it has).
``--check`` exits 1 instead of writing when the file differs.
"""

from __future__ import annotations

import argparse
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from geokb.cli.app import app
from geokb.cli.errors import EXIT_CODES, TABLE

COMMAND = "python -m geokb.cli.docs"
DEFAULT_PATH = Path(__file__).resolve().parents[3] / "docs" / "cli.md"

INTRO = f"""\
<!-- Generated from the app by `{COMMAND}`: edit the commands' help, not this file. -->

# The `geokb` command line

`geokb` is a thin front door over `geokb.kb.KnowledgeBase`: each command opens the KB
(`--kb kb/`, or `--log postgresql://…`), calls one method and prints the answer. The
global options go before the command (`geokb --kb other/ status Tartus`); each can also be
given by its environment variable, which the option overrides.

Long operations (catching up with the log on open, `rebuild`, `ingest`, `validate`,
`export`, `migrate`) draw progress bars on stderr when stderr is a terminal, or when asked
with `--progress` / `GEOKB_PROGRESS=1`; `--no-progress` / `GEOKB_PROGRESS=0` turns them off.
stdout carries only the answer, so `geokb export > kb.trig` stays clean either way.

Every command also takes `--help`; `geokb --version` prints the installed version.
"""

EXIT_INTRO = """\
## Exit codes

Commands raise the domain errors of `geokb.errors` and never catch them; the root command
group translates whatever escapes, at one edge, into one line on stderr
(`geokb: error: <what is wrong>`) and an exit code. A bug prints its traceback and exits 3.
"""

CLASSES_INTRO = """\
Which error gives which code (an error takes the entry of its most specific class; the
classes not listed are subclasses of `GeoKBError`, e.g. `BadTime`, `NotFound`,
`ShapeViolation`, `QueryError`, `CorruptLog`):
"""


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(param: Any) -> str:
    value = param.default
    if callable(value) or value is None or value is False or value == [] or value == ():
        return ""
    if isinstance(value, Enum):
        value = value.value
    return f"`{value}`"


def _type(param: Any) -> str:
    """The kind of value: the choices of an enum, ``flag``, ``integer ≥ 0``, ``path``, …"""
    descriptor = getattr(param, "type_descriptor", None)
    kind = getattr(descriptor, "annotation", None) or getattr(param, "type", None)
    if getattr(param, "is_flag", False) or kind is bool:
        return "flag"
    if isinstance(kind, type) and issubclass(kind, Enum):
        return " \\| ".join(f"`{c.value}`" for c in kind)
    args = getattr(kind, "__args__", None)
    if args:  # list[str]: a repeatable option
        kind = args[0]
    names: dict[Any, str] = {str: "text", int: "integer", float: "number", Path: "path"}
    name = names.get(kind, str(kind))
    if param.min is not None:
        name = f"{name} ≥ {param.min}"
    return f"{name}, repeatable" if getattr(param, "multiple", False) else name


def _names(param: Any) -> str:
    if param.param_type_name == "argument":
        return f"`{(param.metavar or param.name).upper()}`"
    names = [*param.opts, *param.secondary_opts]
    return ", ".join(f"`{n}`" for n in names)


def _usage(cmd: Any, ctx: Any) -> str:
    pieces = [ctx.command_path, "[OPTIONS]"]
    for p in cmd.get_params(ctx):
        if p.param_type_name == "argument":
            name = (p.metavar or p.name).upper()
            pieces.append(name if p.required else f"[{name}]")
    if getattr(cmd, "commands", None):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _params(cmd: Any, ctx: Any) -> list[str]:
    params = [p for p in cmd.get_params(ctx)
              if not getattr(p, "hidden", False) and p.name != "help"]
    if not params:
        return []
    rows = ["| argument / option | type | default | env var | what it is |",
            "|---|---|---|---|---|"]
    for p in params:
        envvar = p.envvar if isinstance(p.envvar, str) else ", ".join(p.envvar or ())
        what = p.help or ""
        if getattr(p, "required", False):
            what = f"(required) {what}".strip()
        rows.append(f"| {_names(p)} | {_type(p)} | {_default(p)} | "
                    f"{f'`{envvar}`' if envvar else ''} | {_cell(what)} |")
    return [*rows, ""]


def _command(cmd: Any, ctx: Any, level: int) -> list[str]:
    out = [f"{'#' * level} `{ctx.command_path}`", ""]
    if cmd.help:
        out += [cmd.help.strip(), ""]
    out += ["```", _usage(cmd, ctx), "```", ""]
    out += _params(cmd, ctx)
    commands = getattr(cmd, "commands", None)
    if commands:
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            out += _command(sub, typer.Context(sub, info_name=name, parent=ctx),
                            min(level + 1, 3))
    return out


def _exit_codes() -> list[str]:
    out = [EXIT_INTRO, "| code | name | meaning |", "|---|---|---|"]
    out += [f"| {c.code} | {c.name} | {_cell(c.meaning)} |" for c in EXIT_CODES]
    out += ["", CLASSES_INTRO, "| error class | exit code |", "|---|---|"]
    rows = sorted(TABLE.items(), key=lambda item: (item[1].code, item[0].__name__))
    for cls, code in rows:
        where = "geokb.errors" if cls.__module__ == "geokb.errors" else cls.__module__
        out.append(f"| `{where}.{cls.__qualname__}` | {code.code} ({code.name}) |")
    return [*out, ""]


def render() -> str:
    """The whole of ``docs/cli.md``."""
    root: Any = typer.main.get_command(app)
    ctx = typer.Context(root, info_name="geokb")
    lines = [INTRO, "## Global options", ""]
    lines += ["```", _usage(root, ctx), "```", ""]
    lines += _params(root, ctx)
    lines += _exit_codes()
    lines += ["## Commands", ""]
    for name in root.list_commands(ctx):
        sub = root.get_command(ctx, name)
        lines += _command(sub, typer.Context(sub, info_name=name, parent=ctx), 3)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the file differs, instead of writing it")
    args = parser.parse_args(argv)
    text = render()
    current = args.path.read_text(encoding="utf-8") if args.path.exists() else None
    if current == text:
        return 0
    if args.check:
        print(f"{args.path} is out of date: run `{COMMAND}`", file=sys.stderr)
        return 1
    args.path.write_text(text, encoding="utf-8")
    print(f"wrote {args.path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
