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
    open_kb, where = session(ctx).open_kb, session(ctx).where
    def run() -> None:
        import uvicorn

        from geokb.http.app import Settings, create_app

        kb = open_kb()
        settings = Settings.from_env(token=os.environ.get(token_env) or None)
        mode = "writes need the bearer token" if settings.tokens else "read-only (no token set)"
        typer.echo(f"geokb: serving {where()} ({kb.position} events) on http://{host}:{port}/ "
                   f"— SPARQL at /sparql, API docs at /docs; {mode}", err=True)
        uvicorn.run(create_app(kb, settings), host=host, port=port, log_level="warning")
    run()
