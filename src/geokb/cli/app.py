"""The root ``geokb`` command: global options, the command groups, and :func:`main`.

Errors become exit codes at one edge, the root group (:class:`geokb.cli.errors.GeoKBGroup`);
the global options of a run live on its click context (:mod:`geokb.cli.context`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from geokb.cli import draft, entities, ops, read, serve, snapshot, sources, write
from geokb.cli.context import Session, default_agent
from geokb.cli.errors import GeoKBGroup
from geokb.cli.progress import wanted

app = typer.Typer(cls=GeoKBGroup, help="geokb: an event-sourced geopolitical knowledge base.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(read.app)
app.add_typer(write.app)
app.add_typer(draft.app)
app.add_typer(sources.app, name="source", rich_help_panel=write.PANEL)
app.add_typer(entities.app, name="entity", rich_help_panel=write.PANEL)
app.add_typer(ops.app)
app.add_typer(serve.app)
app.add_typer(snapshot.app, name="snapshot", rich_help_panel=ops.PANEL)


def version() -> str:
    from importlib import metadata  # 80 ms of imports: only for --version

    try:
        return metadata.version("geokb")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"geokb {version()}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    kb: Path = typer.Option(Path("kb"), "--kb", envvar="GEOKB_KB",
                            help="The KB directory (log, source texts, checks)."),
    projection: str = typer.Option(None, "--projection", envvar="GEOKB_PROJECTION",
                                   help="Keep the projection on disk here (default: "
                                   "KB/.projection for a file log; rebuilt when it does not "
                                   "match the log, caught up otherwise)."),
    in_memory: bool = typer.Option(False, "--in-memory", envvar="GEOKB_IN_MEMORY",
                                   help="Replay the log into an in-memory projection at "
                                   "each start instead of keeping one on disk."),
    agent: str = typer.Option(None, "--as", envvar="GEOKB_AGENT",
                              help="Who records the events (default: cli:$USER)."),
    log_url: str = typer.Option(None, "--log", envvar="GEOKB_LOG",
                                help="Keep the event log and source texts in PostgreSQL: a "
                                "postgresql:// URL."),
    progress: bool = typer.Option(None, "--progress/--no-progress", envvar="GEOKB_PROGRESS",
                                  show_default=False,
                                  help="Draw progress bars on stderr (default: when stderr "
                                  "is a terminal)."),
    _version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                  help="Print geokb's version and exit."),
) -> None:
    """geokb: an event-sourced geopolitical knowledge base."""
    ctx.obj = Session(kb_dir=kb, projection=projection or None,
                      agent=agent or default_agent(), log=log_url or None,
                      progress=wanted(progress), in_memory=in_memory)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    """The ``geokb`` console script."""
    app(prog_name="geokb")
