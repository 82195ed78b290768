"""``geokb serve``: the HTTP front door (SPARQL endpoint, REST API, web page) over the KB."""

from __future__ import annotations

import os

import typer

from geokb.cli.context import session

app = typer.Typer()
PANEL = "Serve"


@app.command(rich_help_panel=PANEL)
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    token_env: str = typer.Option("GEOKB_TOKEN", "--token-env",
                                  help="Env var holding the bearer token for writes."),
) -> None:
    """Serve the SPARQL endpoint, REST API and web page over the KB."""
    from geokb.http.server import serve as serve_http
    from geokb.http.settings import Settings

    s = session(ctx)
    kb = s.open_kb()
    settings = Settings.from_env(token=os.environ.get(token_env) or None)
    serve_http(kb, settings, host=host, port=port, where=s.where())
