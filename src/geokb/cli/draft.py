"""``geokb draft``: propose a claim file from an article, for review before ``ingest``."""

from __future__ import annotations

from pathlib import Path

import typer

from geokb.cli.context import session

app = typer.Typer()
PANEL = "Write"


@app.command(rich_help_panel=PANEL)
def draft(ctx: typer.Context,
          source: Path = typer.Argument(..., help="A plain-text or saved-HTML article."),
          published: str = typer.Option(None, "--published",
                                        help="Publication date (YYYY, YYYY-MM or YYYY-MM-DD): "
                                             "'on Monday' and the like resolve against it."),
          output: Path = typer.Option(None, "-o", "--output",
                                      help="Write the draft here (default: standard output).")
          ) -> None:
    """Draft a claim file from an article: quotations with exact spans, speakers, dates.

    Registers and appends nothing: edit the draft, then `geokb ingest --dry-run` and
    `geokb ingest` it. Entities already in the KB are matched by label and alias.
    """
    text = session(ctx).open_kb().draft(source, published=published, output=output)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}: review it, then `geokb ingest {output}`", err=True)
