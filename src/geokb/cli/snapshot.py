"""``geokb snapshot``: copy the on-disk projection with its log position, or start from one.

A new read node restores a snapshot taken elsewhere (``geokb snapshot restore DIR``) and
then catches up only the events after it, instead of replaying the whole log.
"""

from __future__ import annotations

from pathlib import Path

import typer

from geokb.cli.context import session
from geokb.errors import InvalidRequest

app = typer.Typer(help="Snapshots of the on-disk projection.", no_args_is_help=True)


@app.command("create")
def snapshot_create(
    ctx: typer.Context,
    target: Path = typer.Argument(..., help="A new (or empty) directory for the snapshot."),
) -> None:
    """Copy the projection, caught up with the log, and its position and hash to TARGET."""
    s = session(ctx)
    if s.projection_place() is None:
        raise InvalidRequest("a snapshot copies the on-disk projection: run without "
                             "--in-memory (with --log, give --projection)")
    manifest = s.open_kb().create_snapshot(target)
    typer.echo(f"snapshot of the projection at position {manifest['position']} "
               f"({manifest['quads']:,} quads) in {target}")


@app.command("restore")
def snapshot_restore(
    ctx: typer.Context,
    source: Path = typer.Argument(..., help="A directory made by 'geokb snapshot create'."),
) -> None:
    """Replace the projection by the snapshot in SOURCE, then catch up from the log.

    Refuses a snapshot whose position and hash are not this log's, and a projection that
    another process (a running geokb serve) holds.
    """
    from geokb.kb import restore_snapshot

    s = session(ctx)
    place = s.projection_place()
    if place is None:
        raise InvalidRequest("a snapshot is restored into the on-disk projection: run "
                             "without --in-memory (with --log, give --projection)")
    log, _ = s.backends()
    mark = restore_snapshot(source, place, directory=s.kb_dir, log=log)
    kb = s.open_kb()
    typer.echo(f"restored the projection at position {mark['position']}; caught up "
               f"{kb.position - int(mark['position'])} event(s) from the log, now at "
               f"{kb.position}")
