"""The write commands: assert, retract, supersede, ingest. Each appends events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from geokb.cli.context import session
from geokb.cli.render import FORMAT_HELP, Fmt, emit_json
from geokb.errors import InvalidClaimFile, InvalidRequest
from geokb.vocab import compact
from geokb.write import claimfile

app = typer.Typer()
PANEL = "Write"


@app.command("assert", rich_help_panel=PANEL)
def assert_(
    ctx: typer.Context,
    subject: str = typer.Option(..., "--subject", help="Entity slug."),
    predicate: str = typer.Option(..., "--predicate", help="e.g. gk:status or status."),
    object: str = typer.Option(None, "--object", help="id:<slug>, status:<value>, or an IRI."),
    object_text: str = typer.Option(None, "--object-text", help="A literal object."),
    lang: str = typer.Option(None, "--lang", help="Language of --object-text."),
    modality: str = typer.Option(..., "--modality",
                                 help="asserted, quoted, denied, uncertain or analysis."),
    source: str = typer.Option(..., "--source", help="Source slug."),
    quote: str = typer.Option(..., "--quote", help="The exact words of the source."),
    occurrence: int = typer.Option(None, "--occurrence", help="Which occurrence of the quote."),
    speaker: str = typer.Option(None, "--speaker", help="Entity slug of who said it."),
    via: list[str] = typer.Option([], "--via",
                                  help="Outlet the source cites (repeatable, in order)."),
    valid_from: str = typer.Option(None, "--valid-from", help="World date it became true."),
    valid_until: str = typer.Option(None, "--valid-until", help="World date it ceased to be."),
    valid_at: str = typer.Option(None, "--valid-at", help="A point: sets from and until."),
    confidence: str = typer.Option(None, "--confidence", help="Decimal 0..1."),
    note: str = typer.Option(None, "--note"),
    id: str = typer.Option(None, "--id", help="Claim slug (default: derived from content)."),
    format: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP),
) -> None:
    """Assert one claim with its provenance; the quote is checked against the source."""
    if (object is None) == (object_text is None):
        raise InvalidRequest("give exactly one of --object and --object-text")
    obj: Any = object if object is not None else {"text": object_text, **(
        {"lang": lang} if lang else {})}
    spec = {"id": id, "subject": subject, "predicate": predicate, "object": obj,
            "modality": modality, "source": source, "quote": quote,
            "occurrence": occurrence, "speaker": speaker, "reported_via": via,
            "valid_from": valid_from, "valid_until": valid_until, "valid_at": valid_at,
            "confidence": confidence, "note": note}
    s = session(ctx)
    kb = s.open_kb()
    event = kb.assert_claim({k: v for k, v in spec.items() if v not in (None, [])},
                            recorded_by=s.agent)
    if format is Fmt.json:
        emit_json(kb.claim(event.payload["claim"]))
    else:
        typer.echo(f"asserted {event.payload['claim']} at position {event.position}")


@app.command(rich_help_panel=PANEL)
def ingest(ctx: typer.Context,
           file: Path = typer.Argument(..., help="A YAML or JSON claim file."),
           dry_run: bool = typer.Option(False, "--dry-run",
                                        help="Run every check and print what would be "
                                        "appended and the status it would leave; write "
                                        "nothing."),
           format: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP)) -> None:
    """Append every source, entity and claim of a claim file, or nothing.

    Every problem of the file is reported at once, one line each, as FILE:LINE: claim
    <id>: message.
    """
    data = claimfile.read_limited(file, claimfile.MAX_CLAIM_FILE_BYTES, "claim file")
    s = session(ctx)
    try:
        doc = claimfile.load_document(data, name=str(file))
        kb = s.open_kb()
        if dry_run:
            _print_plan(kb.ingest_plan(doc, base_dir=file.resolve().parent,
                                       recorded_by=s.ingest_agent), format)
            return
        with s.bars() as progress:
            events = kb.ingest(doc, base_dir=file.resolve().parent,
                               recorded_by=s.ingest_agent, progress=progress)
    except InvalidClaimFile as exc:
        for line in exc.problems:
            typer.echo(f"geokb: error: {line}", err=True)
        if len(exc.problems) > 1:
            typer.echo(f"geokb: {file}: {len(exc.problems)} problems; nothing was appended",
                       err=True)
        raise typer.Exit(1) from None
    counts: dict[str, int] = {}
    for e in events:
        counts[e.type] = counts.get(e.type, 0) + 1
    summary = ", ".join(f"{n} {t}" for t, n in counts.items())
    typer.echo(f"ingested {len(events)} events ({summary}); log at position "
               f"{events[-1].position}")


def _print_plan(plan: Any, format: Fmt) -> None:
    """The events a dry run would append, one a line, and the status they would leave."""
    if format is Fmt.json:
        emit_json({"events": [{"position": e.position, "type": e.type,
                               "key": _key(e.payload)} for e in plan.events],
                   "effects": plan.effects, "new_conflicts": plan.new_conflicts,
                   "ended_conflicts": plan.ended_conflicts})
        return
    typer.echo(f"dry run: would append {len(plan.events)} events "
               f"(positions {plan.events[0].position}–{plan.events[-1].position}):")
    for e in plan.events:
        typer.echo(f"  {e.position:>6}  {e.type:<17} {compact(_key(e.payload))}")
    if plan.effects:
        typer.echo("status it would leave:")
    for effect in plan.effects:
        after = effect["after"]
        before = "new entity" if effect["before"] is None else effect["before"]
        change = f"{before} → {after}" if before != after else f"{after} (unchanged)"
        flag = "  CONTESTED" if effect["contested"] else ""
        typer.echo(f"  {compact(effect['entity'])}: {change}{flag}")
    for title, found in (("conflicts it would raise:", plan.new_conflicts),
                         ("conflicts it would end:", plan.ended_conflicts)):
        if found:
            typer.echo(title)
        for c in found:
            on = ", ".join(compact(e) for e in c["on"])
            prop = f" {compact(c['property'])}" if c["property"] else ""
            typer.echo(f"  {on}{prop} ({', '.join(c['rules'])}): "
                       f"{', '.join(compact(x) for x in c['claims'])}")
    typer.echo("nothing was written")


def _key(payload: dict[str, Any]) -> str:
    return str(payload.get("claim") or payload.get("entity") or payload.get("source") or "")


@app.command(rich_help_panel=PANEL)
def retract(ctx: typer.Context, claim: str = typer.Argument(..., help="Claim slug or IRI."),
            reason: str = typer.Option(..., "--reason", help="Why (kept in the log).")) -> None:
    """Retract a claim (it leaves the current view and stays in history)."""
    s = session(ctx)
    event = s.open_kb().retract(claim, reason, recorded_by=s.agent)
    typer.echo(f"retracted {event.payload['claim']} at position {event.position}")


@app.command(rich_help_panel=PANEL)
def supersede(ctx: typer.Context, claim: str = typer.Argument(..., help="Claim slug or IRI."),
              by: str = typer.Option(..., "--by", help="The claim replacing it."),
              reason: str = typer.Option(..., "--reason", help="Why (kept in the log)."),
              cross_entity: str = typer.Option(
                  None, "--cross-entity", metavar="REASON",
                  help="Why the replacing claim is about another subject (kept in the log; "
                       "without it, both claims must be about the same subject).")) -> None:
    """Mark a claim superseded by another (already asserted, later, live) claim."""
    s = session(ctx)
    event = s.open_kb().supersede(claim, by, reason, recorded_by=s.agent,
                                  cross_entity=cross_entity)
    typer.echo(f"superseded {event.payload['claim']} by {event.payload['by']} at position "
               f"{event.position}")


@app.command(rich_help_panel=PANEL)
def link(ctx: typer.Context, claim: str = typer.Argument(..., help="Claim slug or IRI."),
         denies: list[str] = typer.Option([], "--denies", help="A claim it denies (same "
                                          "subject and predicate; repeatable)."),
         confirms: list[str] = typer.Option([], "--confirms", help="A claim it confirms "
                                            "(repeatable)."),
         contradicts: list[str] = typer.Option([], "--contradicts", help="A claim it "
                                               "contradicts (repeatable)."),
         note: str = typer.Option(None, "--note")) -> None:
    """Link a claim to claims it denies, confirms or contradicts (a ClaimsLinked event)."""
    s = session(ctx)
    event = s.open_kb().link_claims(claim, denies=denies, confirms=confirms,
                                    contradicts=contradicts, note=note, recorded_by=s.agent)
    typer.echo(f"linked {event.payload['claim']} at position {event.position}")
