"""``geokb serve``: the HTTP front door (SPARQL endpoint, REST API, web page) over the KB."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import typer

from geokb.cli.context import session

app = typer.Typer()
PANEL = "Serve"
LIMITS = "Limits (docs/http.md; each overrides its GEOKB_* variable)"


@app.command(rich_help_panel=PANEL)
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    token_env: str = typer.Option("GEOKB_TOKEN", "--token-env",
                                  help="Env var holding the bearer token for writes."),
    allowed_host: list[str] = typer.Option(
        [], "--allowed-host", help="A Host name to answer (repeat it; '*.example.org' or "
        "'*' for any). Default: localhost, 127.0.0.1, [::1] and --host "
        "(GEOKB_ALLOWED_HOSTS).", rich_help_panel=LIMITS),
    header_timeout: float | None = typer.Option(
        None, "--header-timeout", min=0.001, help="Seconds a request's headers may take "
        "[GEOKB_HEADER_TIMEOUT; 10].", rich_help_panel=LIMITS),
    body_timeout: float | None = typer.Option(
        None, "--body-timeout", min=0.001, help="Seconds a request body may take, plus one "
        "per --body-min-rate bytes [GEOKB_BODY_TIMEOUT; 20].", rich_help_panel=LIMITS),
    body_min_rate: int | None = typer.Option(
        None, "--body-min-rate", min=1, help="Bytes per second a body must keep up "
        "[GEOKB_BODY_MIN_RATE; 500].", rich_help_panel=LIMITS),
    keepalive_timeout: float | None = typer.Option(
        None, "--keepalive-timeout", min=0.001, help="Seconds an idle kept-alive connection "
        "stays open [GEOKB_KEEPALIVE_TIMEOUT; 5].", rich_help_panel=LIMITS),
    max_header_bytes: int | None = typer.Option(
        None, "--max-header-bytes", min=1024, help="Largest request line and headers, in "
        "bytes [GEOKB_MAX_HEADER_BYTES; 65536].", rich_help_panel=LIMITS),
    max_headers: int | None = typer.Option(
        None, "--max-headers", min=1, help="Most header fields in a request "
        "[GEOKB_MAX_HEADERS; 100].", rich_help_panel=LIMITS),
    max_connections: int | None = typer.Option(
        None, "--max-connections", min=1, help="Open connections served at once; above, 503 "
        "[GEOKB_MAX_CONNECTIONS; 256].", rich_help_panel=LIMITS),
    backlog: int | None = typer.Option(
        None, "--backlog", min=1, help="Connections the kernel queues before accepting "
        "[GEOKB_BACKLOG; 128].", rich_help_panel=LIMITS),
) -> None:
    """Serve the SPARQL endpoint, REST API and web page over the KB."""
    from geokb.http.server import serve as serve_http
    from geokb.http.settings import Settings, hosts_setting

    s = session(ctx)
    kb = s.open_kb()
    settings = Settings.from_env(token=os.environ.get(token_env) or None)
    given: dict[str, Any] = {
        "header_timeout": header_timeout, "body_timeout": body_timeout,
        "body_min_rate": body_min_rate, "keepalive_timeout": keepalive_timeout,
        "max_header_bytes": max_header_bytes, "max_headers": max_headers,
        "max_connections": max_connections, "backlog": backlog}
    if allowed_host:
        given["allowed_hosts"] = hosts_setting(",".join(allowed_host))
    settings = dataclasses.replace(
        settings, **{k: v for k, v in given.items() if v is not None})
    serve_http(kb, settings, host=host, port=port, where=s.where())
