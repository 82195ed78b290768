"""The read commands: status, timeline, show, query, log."""

from __future__ import annotations

import json
import os
import shutil
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import typer

from geokb.cli import render, tables
from geokb.cli.context import session
from geokb.cli.render import FORMAT_HELP, Fmt, emit_json
from geokb.errors import InvalidRequest
from geokb.kb import PAGE_SIZE
from geokb.log.events import EVENT_TYPES
from geokb.write import claimfile

app = typer.Typer()
PANEL = "Read"
LIMIT_HELP = "Claims per page (0: all of them)."
OFFSET_HELP = "Claims to skip (the next page starts at offset + limit)."
AS_OF_HELP = "Log position or UTC time: as known then."
VALID_AT_HELP = "World date (YYYY, YYYY-MM or YYYY-MM-DD): as true then."
MAX_QUERY_FILE = 10 * 1024 * 1024


class QueryFmt(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"
    xml = "xml"
    turtle = "turtle"
    ntriples = "ntriples"


@app.command(rich_help_panel=PANEL)
def status(
    ctx: typer.Context,
    entity: str = typer.Argument(..., help="Label, alias (any case) or slug."),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    valid_at: str = typer.Option(None, "--valid-at", help=VALID_AT_HELP),
    limit: int = typer.Option(PAGE_SIZE, "--limit", min=0, help=LIMIT_HELP),
    offset: int = typer.Option(0, "--offset", min=0, help=OFFSET_HELP),
    format: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP),
) -> None:
    """The status of a facility or agreement, and the claims about it, with evidence."""
    answer = session(ctx).open_kb().status(entity, as_of=as_of, valid_at=valid_at,
                                           limit=limit or None, offset=offset)
    emit_json(answer) if format is Fmt.json else typer.echo(render.status_text(answer))


@app.command(rich_help_panel=PANEL)
def timeline(
    ctx: typer.Context,
    entity: str = typer.Argument(..., help="Label, alias (any case) or slug."),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    valid_at: str = typer.Option(None, "--valid-at", help=VALID_AT_HELP),
    limit: int = typer.Option(PAGE_SIZE, "--limit", min=0, help=LIMIT_HELP),
    offset: int = typer.Option(0, "--offset", min=0, help=OFFSET_HELP),
    format: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP),
) -> None:
    """Claims about an entity in world-time order."""
    answer = session(ctx).open_kb().timeline(entity, as_of=as_of, valid_at=valid_at,
                                             limit=limit or None, offset=offset)
    emit_json(answer) if format is Fmt.json else typer.echo(render.timeline_text(answer))


@app.command(rich_help_panel=PANEL)
def conflicts(
    ctx: typer.Context,
    entity: str = typer.Argument(None, help="Only the conflicts on or mentioning this entity."),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    valid_at: str = typer.Option(None, "--valid-at", help=VALID_AT_HELP),
    limit: int = typer.Option(PAGE_SIZE, "--limit", min=0, help="Conflicts per page (0: all)."),
    offset: int = typer.Option(0, "--offset", min=0, help="Conflicts to skip."),
    format: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP),
) -> None:
    """Disputes between claims: each conflict with its sides, who said what, and since when."""
    answer = session(ctx).open_kb().conflicts(entity, as_of=as_of, valid_at=valid_at,
                                              limit=limit or None, offset=offset)
    emit_json(answer) if format is Fmt.json else typer.echo(render.conflicts_text(answer))


@app.command(rich_help_panel=PANEL)
def show(ctx: typer.Context, claim: str = typer.Argument(..., help="Claim slug or IRI."),
         as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
         format: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP)) -> None:
    """One claim with its statement, evidence, attribution and lifecycle."""
    answer = session(ctx).open_kb().claim(claim, as_of=as_of)
    emit_json(answer) if format is Fmt.json else typer.echo(render.claim_text(answer, ""))


def _cell(term: Any) -> str:
    if term is None:
        return ""
    return str(term.value) if hasattr(term, "value") else str(term)


def _decoded(data: bytes | None) -> str:
    """Serialised results as text (``serialize`` without an output returns the bytes)."""
    assert data is not None
    return data.decode("utf-8")


def _query_text(sparql: str | None, file: Path | None) -> str:
    text = sparql
    if file is not None:
        data = claimfile.read_limited(file, MAX_QUERY_FILE, "query file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRequest(f"query file {file} is not valid UTF-8 (byte {exc.start})"
                                 ) from exc
    if not text:
        raise InvalidRequest("give a query as an argument or with --file")
    return text


def _table_width(width: int | None) -> int | None:
    """``--width``, else the terminal's (``COLUMNS`` counts), else no limit."""
    if width is not None:
        return width or None
    if os.environ.get("COLUMNS", "").isdigit() or sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


@app.command(rich_help_panel=PANEL)
def query(
    ctx: typer.Context,
    sparql: str = typer.Argument(None, help="The SPARQL query (or use --file)."),
    file: Path = typer.Option(None, "--file", "-f", help="Read the query from this file."),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    valid_at: str = typer.Option(None, "--valid-at", help="World date: the default graph's "
                                 "current view holds the claims valid then."),
    format: QueryFmt = typer.Option(QueryFmt.table, "--format",
                                    help="table for people; the others are the standard "
                                    "result and RDF formats."),
    allow_service: bool = typer.Option(False, "--allow-service",
                                       help="Let SERVICE clauses fetch remote endpoints."),
    width: int = typer.Option(None, "--width", min=0, show_default=False,
                              help="Table: fit lines to this many characters (default: the "
                              "terminal's width; not limited when output is not a terminal; "
                              "0: no limit). Longer cells end in '…'."),
    wrap: bool = typer.Option(False, "--wrap", help="Table: wrap long cells over several "
                              "lines instead of cutting them."),
    timeout: float = typer.Option(None, "--timeout", min=0.001, show_default=False,
                                  help="Time budget in seconds: evaluate in a worker process "
                                  "that is killed past it (exit 1)."),
    memory_mb: int = typer.Option(None, "--memory-mb", min=1, show_default=False,
                                  help="Memory budget of that worker in MiB (exit 1 past "
                                  "it); implies a worker."),
) -> None:
    """Run a SPARQL query (our prefixes gk:, id:, claim:, status:, … are predeclared)."""
    text = _query_text(sparql, file)
    run = session(ctx).open_kb().prepare(text, as_of=as_of, valid_at=valid_at,
                                         allow_service=allow_service)
    if timeout is None and memory_mb is None:
        _print_result(run(), format, width, wrap)
        return
    import io
    import time
    from contextlib import redirect_stdout

    from geokb.sparql import workers

    width = _table_width(width) or 0  # the terminal's, read here: the worker writes to a buffer

    def rendered() -> str:
        out = io.StringIO()
        with redirect_stdout(out):
            _print_result(run(), format, width, wrap)
        return out.getvalue()

    deadline = time.monotonic() + (timeout if timeout is not None else 10**9)
    sys.stdout.write(workers.run(rendered, deadline=deadline, seconds=timeout,
                                 memory=memory_mb * 2**20 if memory_mb else None))


def _print_result(result: Any, format: QueryFmt, width: int | None, wrap: bool) -> None:
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        if format in (QueryFmt.json, QueryFmt.xml, QueryFmt.csv, QueryFmt.tsv):
            fmt = getattr(ox.QueryResultsFormat, format.value.upper())
            sys.stdout.write(_decoded(result.serialize(format=fmt)))
            return
        rows = [[_cell(row[v]) for v in variables] for row in result]
        typer.echo(tables.table(variables, rows, width=_table_width(width), wrap=wrap))
        typer.echo(f"({len(rows)} rows)")
    elif isinstance(result, ox.QueryBoolean):
        if format is QueryFmt.json:
            sys.stdout.write(_decoded(result.serialize(format=ox.QueryResultsFormat.JSON)))
        else:
            typer.echo("true" if bool(result) else "false")
    else:
        rdf = ox.RdfFormat.N_TRIPLES if format is QueryFmt.ntriples else ox.RdfFormat.TURTLE
        data = result.serialize(format=rdf)
        sys.stdout.write(data.decode("utf-8") if data else "")


@app.command(rich_help_panel=PANEL)
def log(
    ctx: typer.Context,
    type: str = typer.Option(None, "--type", help=f"One of {', '.join(EVENT_TYPES)}."),
    about: str = typer.Option(None, "--about", help="Events mentioning this slug or IRI."),
    after: int = typer.Option(0, "--after", min=0, help="Start after this position."),
    limit: int = typer.Option(None, "--limit", min=1, help="At most this many events."),
    format: Fmt = typer.Option(Fmt.text, "--format", help="json: one envelope per line."),
) -> None:
    """The history: events in log order, filterable."""
    from geokb.log.codec import envelope_of

    if type is not None and type not in EVENT_TYPES:
        raise InvalidRequest(f"unknown event type {type!r}: one of {', '.join(EVENT_TYPES)}")
    kb = session(ctx).open_kb()
    for e in kb.history(after=after, limit=limit, event_type=type, about=about):
        if format is Fmt.json:
            typer.echo(json.dumps(envelope_of(e), ensure_ascii=False, sort_keys=True))
        else:
            p = e.payload
            key = p.get("claim") or p.get("entity") or p.get("source") or ""
            # who the writer said it was, then who the server authenticated (if anyone)
            vouched = f"  (verified as {e.verified_as})" if e.verified_as else ""
            typer.echo(f"{e.position:>6}  {e.recorded_at}  {e.recorded_by:<20} "
                       f"{e.type:<16} {key}{vouched}")
