"""Keeping a KB: init, verify, validate, check, rebuild, export, migrate.

The checks print what they found and exit 1 when they found something (the ``WRONG`` code
of :mod:`geokb.cli.errors`), 0 when they found nothing.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import typer

from geokb.cli.context import postgres_module, session
from geokb.cli.errors import OK, OVER_BUDGET, WRONG, CheckFailed
from geokb.cli.render import emit_json
from geokb.errors import InvalidRequest, SettingsError, Unavailable

app = typer.Typer()
PANEL = "Keep the KB"


class ValidateFmt(StrEnum):
    text = "text"
    json = "json"
    annotations = "annotations"


class ExportFmt(StrEnum):
    trig = "trig"
    nquads = "nquads"
    jsonld = "jsonld"


def verdict(ok: bool) -> typer.Exit:
    return typer.Exit(OK.code if ok else WRONG.code)


@app.command(rich_help_panel=PANEL)
def init(ctx: typer.Context,
         directory: Path = typer.Argument(None, help="Directory (default: --kb).")) -> None:
    """Create an empty knowledge base directory (with --log: check the database's log)."""
    s = session(ctx)
    if s.log is not None:
        log, _ = s.backends()
        typer.echo(f"the event log in {log.display_path} is ready ({log.head().position} events)")
        return
    target = directory or s.kb_dir
    if (target / "events.jsonl").exists():
        raise InvalidRequest(f"{target}/events.jsonl already exists")
    (target / "sources").mkdir(parents=True, exist_ok=True)
    (target / "checks").mkdir(exist_ok=True)
    (target / "events.jsonl").touch()
    typer.echo(f"initialised an empty knowledge base in {target}/")


@app.command(rich_help_panel=PANEL)
def verify(ctx: typer.Context,
           base: str = typer.Option(None, "--base", metavar="ANCHOR",
                                    help="A trusted earlier head the log must extend "
                                    "unchanged: '<position> <hash>', a bare hash, a file "
                                    "holding one, or a git ref (e.g. origin/main)."),
           signatures: Path = typer.Option(None, "--signatures", metavar="ALLOWED_SIGNERS",
                                           help="Require the --base head to be signed by "
                                           "a key of this ssh allowed_signers file.")) -> None:
    """Check the log's hash chain; name every edited, removed, inserted or reordered event.

    With --base, also fail unless the log extends that trusted head unchanged (a re-sealed
    rewrite, a cut or a forged tail is named at its first differing position).
    """
    s = session(ctx)
    if signatures is not None and base is None:
        raise SettingsError("--signatures checks the signature of a --base head: give --base")
    kb = s.open_kb_for_check()
    report = kb.verify() if base is None else kb.verify_against(base,
                                                                allowed_signers=signatures)
    for p in report.problems:
        typer.echo(p.annotation())
    for w in report.warnings:
        typer.echo(w)
    if report.ok:
        extends = "" if base is None else f", extends {base}"
        typer.echo(f"{s.where()}: hash chain intact ({report.events} events{extends})")
    raise verdict(report.ok)


@app.command(rich_help_panel=PANEL)
def head(ctx: typer.Context,
         sign: Path = typer.Option(None, "--sign", metavar="KEY",
                                   help="Sign the head with this SSH private key "
                                   "(ssh-keygen -Y sign, namespace geokb-head)."),
         output: Path = typer.Option(None, "--output", "-o",
                                     help="Write here (default: stdout).")) -> None:
    """Print the log's head ('<position> <hash>') to publish or pin for verify --base."""
    text = session(ctx).open_kb_for_check().head(sign_with=sign)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)


@app.command(rich_help_panel=PANEL)
def validate(ctx: typer.Context,
             format: ValidateFmt = typer.Option(ValidateFmt.text, "--format",
                                                help="annotations: file:line: message."),
             since: str = typer.Option(None, "--since", metavar="ANCHOR",
                                       help="Check only what the events after this trusted "
                                       "head add or change (as verify --base takes it: "
                                       "'<position> <hash>', a bare hash, a file or a git "
                                       "ref); the log must extend it unchanged.")
             ) -> None:
    """Check the whole KB: hash chain, replay, rules, SHACL and every quote.

    SHACL runs in partitions of the KB. With --since, the events up to the anchor are
    trusted (validated when it was): their lines are checked by their bytes, the KB's
    checkpoint at or before it is the starting point (else they are replayed), and only
    the later events are replayed with every rule and checked. Exit 0 conforms, 1
    violations, 2 could not run.
    """
    s = session(ctx)
    kb = s.open_kb_for_validate()
    with s.bars() as progress:
        report = kb.validate(progress=progress, since=since)
    if format is ValidateFmt.json:
        emit_json(report.to_json())
    elif format is ValidateFmt.annotations:
        for p in report.problems:
            typer.echo(p.annotation())
    else:
        for p in report.problems:
            typer.echo(p.annotation())
        verdict_text = "conforms" if report.ok else f"{len(report.problems)} violation(s)"
        typer.echo(f"{s.where()}: {report.events} events, {report.claims} claims: "
                   f"{verdict_text}")
    raise verdict(report.ok)


@app.command(rich_help_panel=PANEL)
def check(ctx: typer.Context,
          directory: Path = typer.Option(None, "--dir", help="Default: <kb>/checks."),
          timeout: float = typer.Option(None, "--timeout", metavar="SECONDS", min=0.001,
                                        help="The time budget of each check (default 60): "
                                        "one that runs longer is stopped and fails (exit 5)."),
          since: str = typer.Option(None, "--since", metavar="ANCHOR",
                                    help="Ask the checks that declare '# concerns: ?var' "
                                    "only about what changed after this trusted head (as "
                                    "verify --base takes it)."),
          whole: bool = typer.Option(False, "--whole",
                                     help="Ask every check about the whole KB, not only "
                                     "about what changed since it last passed.")) -> None:
    """Run the KB's assertions (SPARQL ASK files); exit 1 naming each that fails.

    Each check runs within --timeout seconds (exit 5 if one overran it); a check that
    took more than half of it is named with its time. With the projection on disk, a
    check that passed the last run is asked only about what changed since (--whole:
    about everything).
    """
    s = session(ctx)
    results = s.open_kb().check(directory or s.kb_dir / "checks", budget=timeout,
                                since=since, whole=whole)
    failed = [r for r in results if not r.passed]
    for r in results:
        mark = "ok  " if r.passed else "FAIL"
        scope = "" if not r.restricted else " (changed nodes only)" if r.since is None \
            else f" (changed since position {r.since}, where it last passed)"
        typer.echo(f"{mark} {r.path}: {r.title}{scope}")
        if r.slow:
            typer.echo(f"{'FAIL' if r.timed_out else 'slow'} {r.timing()}",
                       err=not r.timed_out)
    typer.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if any(r.timed_out for r in results):
        raise typer.Exit(OVER_BUDGET.code)
    raise verdict(not failed)


@app.command(rich_help_panel=PANEL)
def rebuild(
    ctx: typer.Context,
    expect: str = typer.Option(None, "--expect", help="Fail unless the hash is this."),
) -> None:
    """Replay the log into a fresh projection and print its canonical N-Quads hash.

    With an on-disk projection, also check that it equals the fresh replay.
    """
    s = session(ctx)
    kb = s.open_kb()
    with s.bars() as progress:
        digest = kb.rebuild(progress=progress)
    if s.projection is not None and kb.projection.canonical_hash() != digest:
        raise CheckFailed(f"the on-disk projection differs from a fresh replay ({digest})")
    if expect is not None and expect != digest:
        raise CheckFailed(f"canonical hash {digest} differs from the expected {expect}")
    typer.echo(digest)


@app.command(rich_help_panel=PANEL)
def export(ctx: typer.Context,
           format: ExportFmt = typer.Option(ExportFmt.trig, "--format", help="The RDF format."),
           output: Path = typer.Option(None, "--output", "-o",
                                       help="Write here (default: stdout).")) -> None:
    """Export the projection (every graph) as TriG, N-Quads or JSON-LD."""
    from geokb.vocab import PREFIXES

    s = session(ctx)
    kb = s.open_kb()
    fmt = {"trig": ox.RdfFormat.TRIG, "nquads": ox.RdfFormat.N_QUADS,
           "jsonld": ox.RdfFormat.JSON_LD}[format.value]
    options: dict[str, Any] = {}
    if format is ExportFmt.trig:
        options["prefixes"] = PREFIXES
    with s.bars() as progress:
        quads = []
        total = kb.projection.size()  # with the system graph's few quads: near enough
        for q in kb.projection.quads():
            quads.append(q)
            if progress is not None and len(quads) % 4096 == 0:
                progress("reading quads", len(quads), max(total, len(quads)))
        if progress is not None:
            progress("reading quads", len(quads), len(quads))
            progress(f"writing {format.value}", 0, 0)
        quads.sort(key=str)
        data = ox.serialize(quads, format=fmt, **options)
        if progress is not None:
            progress(f"writing {format.value}", 1, 1)
    if output is not None:
        output.write_bytes(data or b"")
    else:
        sys.stdout.write((data or b"").decode("utf-8"))


@app.command(rich_help_panel=PANEL)
def migrate(ctx: typer.Context,
            to: str = typer.Option(..., "--to", help="postgresql:// URL of the database.")
            ) -> None:
    """Copy the log and source texts in --kb into PostgreSQL, byte for byte.

    An empty database gets the whole log; one that holds an earlier migrate of it gets
    only the events since, so it can run again just before switching to --log. Exit 1 if
    the database holds another history.
    """
    pg = postgres_module(to)
    s = session(ctx)
    kb_dir = s.kb_dir
    if not kb_dir.is_dir():
        raise Unavailable(f"no knowledge base at {kb_dir}/")
    with s.bars() as progress:
        if progress is not None:  # push() reports nothing: a bar of unknown length
            progress(f"copying to {pg.redacted_url(to)}", 0, 0)
        done = pg.push(kb_dir, to)
    if done.torn_tail:
        typer.echo(f"geokb: left out the unfinished last append in {kb_dir}/", err=True)
    typer.echo(f"copied {done.events} events and {done.texts} source texts to "
               f"{pg.redacted_url(to)}: its log is at position {done.head.position} "
               f"(hash {done.head.hash[:12]})")
