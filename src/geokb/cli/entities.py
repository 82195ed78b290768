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


@app.command("amend")
def entity_amend(
    ctx: typer.Context,
    id: str = typer.Argument(..., help="Entity slug."),
    reason: str = typer.Option(..., "--reason", help="Why it changes (kept in the log)."),
    label: str = typer.Option(None, "--label", help="A new label (replaces the old one)."),
    description: str = typer.Option(None, "--description", help="A new description."),
    add_alias: list[str] = typer.Option([], "--add-alias",
                                        help="A name the sources use (repeatable)."),
    curator_alias: list[str] = typer.Option([], "--curator-alias",
                                            help="A name from the curator's knowledge, not "
                                                 "from a source (repeatable)."),
    remove_alias: list[str] = typer.Option([], "--remove-alias",
                                           help="An alias to remove (repeatable)."),
    add_type: list[str] = typer.Option([], "--add-type",
                                       help="A class to add, e.g. gk:Airfield (repeatable)."),
    add_same_as: list[str] = typer.Option([], "--add-same-as",
                                          help="A checked IRI in another KB (repeatable)."),
) -> None:
    """Amend an entity: label, description, aliases, types (an EntityAmended event)."""
    s = session(ctx)
    spec = {"id": id, "reason": reason, "label": label, "description": description,
            "add_aliases": add_alias, "curator_aliases": curator_alias,
            "remove_aliases": remove_alias, "add_types": add_type, "add_same_as": add_same_as}
    event = s.open_kb().amend_entity({k: v for k, v in spec.items() if v not in (None, [])},
                                     recorded_by=s.agent)
    typer.echo(f"amended {event.payload['entity']} at position {event.position}")


@app.command("find")
def entity_find(ctx: typer.Context,
                name: str = typer.Argument(..., help="Label or alias (any case), or slug.")
                ) -> None:
    """Find an entity by label or alias (case-insensitive)."""
    typer.echo(session(ctx).open_kb().entity(name).value)
