"""``geokb entity``: declare entities, list them, and find them by any part of a name."""

from __future__ import annotations

from typing import Any

import typer

from geokb.cli.context import session
from geokb.cli.render import FORMAT_HELP, Fmt, emit_json
from geokb.errors import NotFound

app = typer.Typer(help="Declare, list and find entities.", no_args_is_help=True)


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
                text: str = typer.Argument(..., help="Any part of a label, alias or slug "
                                           "(case, accents and apostrophes ignored)."),
                format: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP)) -> None:
    """Find entities by any part of a label, alias or slug: exact names first."""
    found = session(ctx).open_kb().find_entities(text)
    if not found:
        raise NotFound(f"no entity is named {text!r} and none has it in a label, alias or slug")
    if format is Fmt.json:
        emit_json(found)
        return
    for e in found:
        matched = f"  (matched {e['matched']!r})" if e["matched"] != e["label"] else ""
        typer.echo(f"{e['iri']}  {e['label']} [{', '.join(e['types'])}] "
                   f"{_claims(e['claims'])}{matched}")


@app.command("list")
def entity_list(ctx: typer.Context,
                type: str = typer.Option(None, "--type", help="Only this class, e.g. "
                                         "gk:NavalBase (exactly; subclasses not included)."),
                format: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP)) -> None:
    """The declared entities, by type, with how many live claims are about each."""
    rows = session(ctx).open_kb().entities(type=type)
    if format is Fmt.json:
        emit_json(rows)
        return
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in rows:
        by_type.setdefault(", ".join(e["types"]) or "(no type)", []).append(e)
    for kind in sorted(by_type):
        typer.echo(f"{kind} ({len(by_type[kind])})")
        width = max(len(e["id"]) for e in by_type[kind])
        for e in by_type[kind]:
            typer.echo(f"  {e['id']:<{width}}  {e['label']}  {_claims(e['claims'])}")
    typer.echo(f"({len(rows)} {'entity' if len(rows) == 1 else 'entities'})")


def _claims(n: int) -> str:
    return f"{n} claim" + ("" if n == 1 else "s")
