"""``geokb source``: register a source document and show its stored text."""

from __future__ import annotations

from pathlib import Path

import typer

from geokb.cli.context import session
from geokb.write import claimfile

app = typer.Typer(help="Register and show sources.", no_args_is_help=True)


@app.command("add")
def source_add(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The source text (UTF-8)."),
    id: str = typer.Option(..., "--id", help="Slug, e.g. article-syria-russia."),
    title: str = typer.Option(..., "--title"),
    publisher: str = typer.Option(None, "--publisher", help="Entity slug of the publisher."),
    url: str = typer.Option(None, "--url"),
    published: str = typer.Option(None, "--published", help="YYYY, YYYY-MM or YYYY-MM-DD."),
    language: str = typer.Option(None, "--language"),
    section: str = typer.Option(None, "--section"),
    description: str = typer.Option(None, "--description"),
) -> None:
    """Register a source document and store its text by its SHA-256."""
    s = session(ctx)
    kb = s.open_kb()
    text = claimfile.read_source_file(file)
    spec = {"id": id, "title": title, "publisher": publisher, "url": url,
            "published": published, "language": language, "section": section,
            "description": description}
    event = kb.register_source(spec, text, recorded_by=s.agent)
    typer.echo(f"registered source {event.payload['source']} "
               f"(sha256 {event.payload['sha256']}) at position {event.position}")


@app.command("retract")
def source_retract(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="Source slug."),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the log)."),
) -> None:
    """Retract a source and its live claims (they leave the current view, stay in history)."""
    s = session(ctx)
    events = s.open_kb().retract_source(source, reason, recorded_by=s.agent)
    claims = len(events) - 1
    typer.echo(f"retracted {events[-1].payload['source']} and {claims} claim(s) of it; log at "
               f"position {events[-1].position}")


@app.command("show")
def source_show(ctx: typer.Context,
                source: str = typer.Argument(..., help="Source slug.")) -> None:
    """Print a source's stored text."""
    typer.echo(session(ctx).open_kb().source_text(source), nl=False)
