"""``geokb entity``: declare entities and find them by name."""

from __future__ import annotations

import typer

from geokb.cli.context import session

app = typer.Typer(help="Declare and find entities.", no_args_is_help=True)


@app.command("add")
def entity_add(
    ctx: typer.Context,
    id: str = typer.Option(..., "--id", help="Slug, e.g. tartus-naval-base."),
    type: list[str] = typer.Option(..., "--type", help="Class, e.g. gk:NavalBase (repeatable)."),
    label: str = typer.Option(..., "--label"),
    alias: list[str] = typer.Option([], "--alias", help="Another name (repeatable)."),
    same_as: list[str] = typer.Option([], "--same-as", help="A checked IRI in another KB."),
    description: str = typer.Option(None, "--description"),
) -> None:
    """Declare an entity with its type, label and aliases."""
    s = session(ctx)
    event = s.open_kb().declare_entity(
        {"id": id, "types": type, "label": label, "aliases": alias, "same_as": same_as,
         "description": description}, recorded_by=s.agent)
    typer.echo(f"declared {event.payload['entity']} at position {event.position}")


@app.command("find")
def entity_find(ctx: typer.Context,
                name: str = typer.Argument(..., help="Label or alias (any case), or slug.")
                ) -> None:
    """Find an entity by label or alias (case-insensitive)."""
    typer.echo(session(ctx).open_kb().entity(name).value)
