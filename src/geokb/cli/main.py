"""The ``geokb`` command line: a thin front door over :class:`geokb.kb.KnowledgeBase`.

Domain errors become one line on stderr and exit code 1; a KB that cannot be read
(unreadable file, bad Turtle in ontology/ or shapes/) exits 2. No tracebacks.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pyoxigraph as ox
import typer

from geokb.cli import render
from geokb.errors import GeoKBError, OntologyError
from geokb.log.events import EVENT_TYPES
from geokb.read.queries import PAGE_SIZE
from geokb.write import claimfile

app = typer.Typer(help="geokb: an event-sourced geopolitical knowledge base.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
source_app = typer.Typer(help="Register and show sources.", no_args_is_help=True)
entity_app = typer.Typer(help="Declare and find entities.", no_args_is_help=True)
app.add_typer(source_app, name="source")
app.add_typer(entity_app, name="entity")

T = TypeVar("T")


class State:
    kb_dir: Path = Path(os.environ.get("GEOKB_KB", "kb"))
    projection: str | None = os.environ.get("GEOKB_PROJECTION") or None
    agent: str = os.environ.get("GEOKB_AGENT") or "cli:" + (os.environ.get("USER") or "unknown")
    log: str | None = os.environ.get("GEOKB_LOG") or None


PG_SCHEMES = ("postgresql://", "postgres://")


class Fmt(StrEnum):
    text = "text"
    json = "json"


class QueryFmt(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"
    xml = "xml"
    turtle = "turtle"
    ntriples = "ntriples"


class ValidateFmt(StrEnum):
    text = "text"
    json = "json"
    annotations = "annotations"


class ExportFmt(StrEnum):
    trig = "trig"
    nquads = "nquads"
    jsonld = "jsonld"


def fail(message: str, code: int = 1) -> NoReturn:
    one_line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    typer.echo(f"geokb: error: {one_line}", err=True)  # parser messages span lines
    raise typer.Exit(code)


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``; domain errors become one line and exit 1, unreadable KB exit 2."""
    try:
        return action()
    except OntologyError as exc:
        fail(str(exc), 2)
    except GeoKBError as exc:
        fail(str(exc), 1)
    except SyntaxError as exc:
        fail(f"SPARQL syntax error: {exc}", 1)
    except OSError as exc:
        fail(f"{exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}".rstrip(": "), 2)


def open_kb() -> Any:
    from geokb.kb import KnowledgeBase

    log, texts = open_backends()
    if log is None and not State.kb_dir.is_dir():
        fail(f"no knowledge base at {State.kb_dir}/ (run 'geokb init' or pass --kb)", 2)
    kb = KnowledgeBase(State.kb_dir, projection_path=State.projection, log=log, texts=texts)
    # What is loaded now (ontology, shapes, compiled engine, the replayed log's objects)
    # lives as long as the command: keep it out of every later garbage-collection pass,
    # which otherwise costs about a quarter of a validated write (docs/benchmarks.md).
    gc.freeze()
    return kb


def postgres_module(url: str) -> Any:
    """:mod:`geokb.log.postgres`, for a ``postgresql://`` URL; exit 2 for anything else."""
    if not url.startswith(PG_SCHEMES):
        fail(f"not a PostgreSQL URL: {url!r} (give postgresql://host/db)", 2)
    try:
        from geokb.log import postgres
    except ImportError:
        fail("a PostgreSQL log needs psycopg: pip install 'geokb[postgres]'", 2)
    return postgres


def open_backends() -> tuple[Any, Any]:
    """The log and source texts in the database --log names, or (None, None) for --kb's files."""
    if State.log is None:
        return None, None
    pg = postgres_module(State.log)
    return pg.PostgresEventStore(State.log), pg.PostgresSourceTexts(State.log)


def where() -> str:
    """The KB, for messages: the --kb directory or the --log database (no credentials)."""
    if State.log is None:
        return str(State.kb_dir)
    return str(postgres_module(State.log).redacted_url(State.log))


def emit_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


@app.callback()
def main_options(
    kb: Path = typer.Option(None, "--kb", help="KB directory (env GEOKB_KB; default ./kb)."),
    projection: str = typer.Option(None, "--projection",
                                   help="Keep the projection on disk here (env GEOKB_PROJECTION)."),
    agent: str = typer.Option(None, "--as", help="Who records events (env GEOKB_AGENT)."),
    log_url: str = typer.Option(None, "--log", help="Keep the event log and source texts in "
                                "PostgreSQL: a postgresql:// URL (env GEOKB_LOG)."),
) -> None:
    if kb is not None:
        State.kb_dir = kb
    if projection is not None:
        State.projection = projection
    if agent is not None:
        State.agent = agent
    State.log = log_url or os.environ.get("GEOKB_LOG") or None  # per call: no leftovers


@app.command()
def init(directory: Path = typer.Argument(None, help="Directory (default: --kb).")) -> None:
    """Create an empty knowledge base directory."""
    if State.log is not None:
        def ready() -> None:
            log, _ = open_backends()
            typer.echo(f"the event log in {log.display_path} is ready "
                       f"({log.head().position} events)")
        return guarded(ready)
    target = directory or State.kb_dir
    if (target / "events.jsonl").exists():
        fail(f"{target}/events.jsonl already exists")
    (target / "sources").mkdir(parents=True, exist_ok=True)
    (target / "checks").mkdir(exist_ok=True)
    (target / "events.jsonl").touch()
    typer.echo(f"initialised an empty knowledge base in {target}/")


@source_app.command("add")
def source_add(
    file: Path = typer.Argument(..., help="The source text (UTF-8)."),
    id: str = typer.Option(..., "--id", help="Slug, e.g. article-syria-russia."),
    title: str = typer.Option(..., "--title"),
    publisher: str = typer.Option(None, "--publisher", help="Entity slug of the publisher."),
    url: str = typer.Option(None, "--url"),
    published: str = typer.Option(None, "--published", help="YYYY, YYYY-MM or YYYY-MM-DD."),
    language: str = typer.Option(None, "--language"),
    section: str = typer.Option(None, "--section"),
    description: str = typer.Option(None, "--description"),
) -> None:
    """Register a source document and store its text by its SHA-256."""
    def run() -> None:
        kb = open_kb()
        text = claimfile.read_source_file(file)
        spec = {"id": id, "title": title, "publisher": publisher, "url": url,
                "published": published, "language": language, "section": section,
                "description": description}
        event = kb.register_source(spec, text, recorded_by=State.agent)
        typer.echo(f"registered source {event.payload['source']} "
                   f"(sha256 {event.payload['sha256']}) at position {event.position}")
    guarded(run)


@source_app.command("show")
def source_show(source: str = typer.Argument(..., help="Source slug.")) -> None:
    """Print a source's stored text."""
    guarded(lambda: typer.echo(open_kb().source_text(source), nl=False))


@entity_app.command("add")
def entity_add(
    id: str = typer.Option(..., "--id", help="Slug, e.g. tartus-naval-base."),
    type: list[str] = typer.Option(..., "--type", help="Class, e.g. gk:NavalBase (repeatable)."),
    label: str = typer.Option(..., "--label"),
    alias: list[str] = typer.Option([], "--alias", help="Another name (repeatable)."),
    same_as: list[str] = typer.Option([], "--same-as", help="A checked IRI in another KB."),
    description: str = typer.Option(None, "--description"),
) -> None:
    """Declare an entity with its type, label and aliases."""
    def run() -> None:
        event = open_kb().declare_entity(
            {"id": id, "types": type, "label": label, "aliases": alias, "same_as": same_as,
             "description": description}, recorded_by=State.agent)
        typer.echo(f"declared {event.payload['entity']} at position {event.position}")
    guarded(run)


@entity_app.command("find")
def entity_find(name: str) -> None:
    """Find an entity by label or alias (case-insensitive)."""
    guarded(lambda: typer.echo(open_kb().entity(name).value))


@app.command("assert")
def assert_(
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
    valid_from: str = typer.Option(None, "--valid-from"),
    valid_until: str = typer.Option(None, "--valid-until"),
    valid_at: str = typer.Option(None, "--valid-at", help="A point: sets from and until."),
    confidence: str = typer.Option(None, "--confidence", help="Decimal 0..1."),
    note: str = typer.Option(None, "--note"),
    id: str = typer.Option(None, "--id", help="Claim slug (default: derived from content)."),
    format: Fmt = typer.Option(Fmt.text, "--format"),
) -> None:
    """Assert one claim with its provenance; the quote is checked against the source."""
    def run() -> None:
        if (object is None) == (object_text is None):
            fail("give exactly one of --object and --object-text")
        obj: Any = object if object is not None else {"text": object_text, **(
            {"lang": lang} if lang else {})}
        spec = {"id": id, "subject": subject, "predicate": predicate, "object": obj,
                "modality": modality, "source": source, "quote": quote,
                "occurrence": occurrence, "speaker": speaker, "reported_via": via,
                "valid_from": valid_from, "valid_until": valid_until, "valid_at": valid_at,
                "confidence": confidence, "note": note}
        kb = open_kb()
        event = kb.assert_claim({k: v for k, v in spec.items() if v not in (None, [])},
                                recorded_by=State.agent)
        if format is Fmt.json:
            emit_json(kb.claim(event.payload["claim"]))
        else:
            typer.echo(f"asserted {event.payload['claim']} at position {event.position}")
    guarded(run)


@app.command()
def ingest(file: Path = typer.Argument(..., help="A YAML or JSON claim file.")) -> None:
    """Append every source, entity and claim of a claim file, or nothing."""
    def run() -> None:
        try:
            data = claimfile.read_limited(file, claimfile.MAX_CLAIM_FILE_BYTES, "claim file")
        except GeoKBError as exc:
            fail(str(exc), 2)
        doc = claimfile.load_document(data, name=str(file))
        agent = None if State.agent.startswith("cli:") else State.agent
        events = open_kb().ingest(doc, base_dir=file.resolve().parent, recorded_by=agent)
        counts: dict[str, int] = {}
        for e in events:
            counts[e.type] = counts.get(e.type, 0) + 1
        summary = ", ".join(f"{n} {t}" for t, n in counts.items())
        typer.echo(f"ingested {len(events)} events ({summary}); log at position "
                   f"{events[-1].position}")
    guarded(run)


@app.command()
def retract(claim: str, reason: str = typer.Option(..., "--reason")) -> None:
    """Retract a claim (it leaves the current view and stays in history)."""
    def run() -> None:
        event = open_kb().retract(claim, reason, recorded_by=State.agent)
        typer.echo(f"retracted {event.payload['claim']} at position {event.position}")
    guarded(run)


@app.command()
def supersede(claim: str, by: str = typer.Option(..., "--by", help="The claim replacing it."),
              reason: str = typer.Option(..., "--reason")) -> None:
    """Mark a claim superseded by another (already asserted) claim."""
    def run() -> None:
        event = open_kb().supersede(claim, by, reason, recorded_by=State.agent)
        typer.echo(f"superseded {event.payload['claim']} by {event.payload['by']} at position "
                   f"{event.position}")
    guarded(run)


@app.command()
def log(
    type: str = typer.Option(None, "--type", help=f"One of {', '.join(EVENT_TYPES)}."),
    about: str = typer.Option(None, "--about", help="Events mentioning this slug or IRI."),
    after: int = typer.Option(0, "--after", min=0, help="Start after this position."),
    limit: int = typer.Option(None, "--limit", min=1),
    format: Fmt = typer.Option(Fmt.text, "--format"),
) -> None:
    """The history: events in log order, filterable."""
    def run() -> None:
        from geokb.log.codec import envelope_of

        if type is not None and type not in EVENT_TYPES:
            fail(f"unknown event type {type!r}: one of {', '.join(EVENT_TYPES)}")
        for e in open_kb().history(after=after, limit=limit, event_type=type, about=about):
            if format is Fmt.json:
                typer.echo(json.dumps(envelope_of(e), ensure_ascii=False, sort_keys=True))
            else:
                p = e.payload
                key = p.get("claim") or p.get("entity") or p.get("source") or ""
                typer.echo(f"{e.position:>6}  {e.recorded_at}  {e.recorded_by:<20} "
                           f"{e.type:<16} {key}")
    guarded(run)


@app.command()
def show(claim: str, as_of: str = typer.Option(None, "--as-of"),
         format: Fmt = typer.Option(Fmt.text, "--format")) -> None:
    """One claim with its statement, evidence, attribution and lifecycle."""
    def run() -> None:
        answer = open_kb().claim(claim, as_of=as_of)
        emit_json(answer) if format is Fmt.json else typer.echo(render.claim_text(answer, ""))
    guarded(run)


LIMIT_HELP = "Claims per page (0: all of them)."
OFFSET_HELP = "Claims to skip (the next page starts at offset + limit)."


@app.command()
def status(
    entity: str = typer.Argument(..., help="Label, alias (any case) or slug."),
    as_of: str = typer.Option(None, "--as-of", help="Log position or UTC time: as known then."),
    valid_at: str = typer.Option(None, "--valid-at", help="World date: as true then."),
    limit: int = typer.Option(PAGE_SIZE, "--limit", min=0, help=LIMIT_HELP),
    offset: int = typer.Option(0, "--offset", min=0, help=OFFSET_HELP),
    format: Fmt = typer.Option(Fmt.text, "--format"),
) -> None:
    """The status of a facility or agreement, and the claims about it, with evidence."""
    def run() -> None:
        answer = open_kb().status(entity, as_of=as_of, valid_at=valid_at,
                                  limit=limit or None, offset=offset)
        emit_json(answer) if format is Fmt.json else typer.echo(render.status_text(answer))
    guarded(run)


@app.command()
def timeline(
    entity: str = typer.Argument(..., help="Label, alias (any case) or slug."),
    as_of: str = typer.Option(None, "--as-of"),
    valid_at: str = typer.Option(None, "--valid-at"),
    limit: int = typer.Option(PAGE_SIZE, "--limit", min=0, help=LIMIT_HELP),
    offset: int = typer.Option(0, "--offset", min=0, help=OFFSET_HELP),
    format: Fmt = typer.Option(Fmt.text, "--format"),
) -> None:
    """Claims about an entity in world-time order."""
    def run() -> None:
        answer = open_kb().timeline(entity, as_of=as_of, valid_at=valid_at,
                                    limit=limit or None, offset=offset)
        emit_json(answer) if format is Fmt.json else typer.echo(render.timeline_text(answer))
    guarded(run)


def _cell(term: Any) -> str:
    if term is None:
        return ""
    return str(term.value) if hasattr(term, "value") else str(term)


def _decoded(data: bytes | None) -> str:
    """Serialised results as text (``serialize`` without an output returns the bytes)."""
    assert data is not None
    return data.decode("utf-8")


@app.command()
def query(
    sparql: str = typer.Argument(None, help="The SPARQL query (or use --file)."),
    file: Path = typer.Option(None, "--file", "-f"),
    as_of: str = typer.Option(None, "--as-of"),
    valid_at: str = typer.Option(None, "--valid-at"),
    format: QueryFmt = typer.Option(QueryFmt.table, "--format"),
    allow_service: bool = typer.Option(False, "--allow-service",
                                       help="Let SERVICE clauses fetch remote endpoints."),
) -> None:
    """Run a SPARQL query (our prefixes gk:, id:, claim:, status:, … are predeclared)."""
    def run() -> None:
        text = sparql
        if file is not None:
            data = claimfile.read_limited(file, 10 * 1024 * 1024, "query file")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                fail(f"query file {file} is not valid UTF-8 (byte {exc.start})")
        if not text:
            fail("give a query as an argument or with --file")
        from geokb.write.updates import uses_keyword

        if uses_keyword(text, "SERVICE") and not allow_service:
            fail("SERVICE (federated query) is refused: it makes geokb fetch URLs; pass "
                 "--allow-service if you mean it")
        result = open_kb().query(text, as_of=as_of, valid_at=valid_at)
        if isinstance(result, ox.QuerySolutions):
            variables = [v.value for v in result.variables]
            if format in (QueryFmt.json, QueryFmt.xml, QueryFmt.csv, QueryFmt.tsv):
                fmt = getattr(ox.QueryResultsFormat, format.value.upper())
                sys.stdout.write(_decoded(result.serialize(format=fmt)))
                return
            rows = [[_cell(row[v]) for v in variables] for row in result]
            typer.echo(render.table(variables, rows))
            typer.echo(f"({len(rows)} rows)")
        elif isinstance(result, ox.QueryBoolean):
            if format is QueryFmt.json:
                sys.stdout.write(_decoded(result.serialize(format=ox.QueryResultsFormat.JSON)))
            else:
                typer.echo("true" if bool(result) else "false")
        else:
            rdf = ox.RdfFormat.N_TRIPLES if format is QueryFmt.ntriples else ox.RdfFormat.TURTLE
            data = result.serialize(format=rdf)
            sys.stdout.write(data.decode("utf-8") if data else "")
    guarded(run)


@app.command()
def validate(format: ValidateFmt = typer.Option(ValidateFmt.text, "--format")) -> None:
    """Check the whole KB: hash chain, replay, rules, SHACL and every quote.

    Exit 0 conforms, 1 violations, 2 could not run.
    """
    from geokb.ops.report import validate as run_validate

    report = guarded(lambda: run_validate(open_kb_for_check()))
    if format is ValidateFmt.json:
        emit_json(report.to_json())
    elif format is ValidateFmt.annotations:
        for p in report.problems:
            typer.echo(p.annotation())
    else:
        for p in report.problems:
            typer.echo(p.annotation())
        verdict = "conforms" if report.ok else f"{len(report.problems)} violation(s)"
        typer.echo(f"{where()}: {report.events} events, {report.claims} claims: {verdict}")
    raise typer.Exit(0 if report.ok else 1)


def open_kb_for_check() -> Any:
    """A KB object for checks: the log is read by the check itself, not replayed here."""
    from geokb.kb import KnowledgeBase

    log, texts = open_backends()
    if log is None and not State.kb_dir.is_dir():
        fail(f"no knowledge base at {State.kb_dir}/", 2)
    return KnowledgeBase(State.kb_dir, catch_up=False, log=log, texts=texts)


@app.command()
def verify() -> None:
    """Check the log's hash chain; name every edited, removed, inserted or reordered event."""
    from geokb.ops.report import verify as run_verify

    report = guarded(lambda: run_verify(open_kb_for_check()))
    for p in report.problems:
        typer.echo(p.annotation())
    if report.ok:
        typer.echo(f"{where()}: hash chain intact ({report.events} events)")
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def migrate(to: str = typer.Option(..., "--to", help="postgresql:// URL of the database.")) -> None:
    """Copy the log and source texts in --kb into PostgreSQL, byte for byte.

    An empty database gets the whole log; one that holds an earlier migrate of it gets
    only the events since, so it can run again just before switching to --log. Exit 1 if
    the database holds another history.
    """
    def run() -> None:
        pg = postgres_module(to)
        if not State.kb_dir.is_dir():
            fail(f"no knowledge base at {State.kb_dir}/", 2)
        done = pg.push(State.kb_dir, to)
        if done.torn_tail:
            typer.echo(f"geokb: left out the unfinished last append in {State.kb_dir}/",
                       err=True)
        typer.echo(f"copied {done.events} events and {done.texts} source texts to "
                   f"{pg.redacted_url(to)}: its log is at position {done.head.position} "
                   f"(hash {done.head.hash[:12]})")
    guarded(run)


@app.command()
def rebuild(
    expect: str = typer.Option(None, "--expect", help="Fail unless the hash is this."),
) -> None:
    """Replay the log into a fresh projection and print its canonical N-Quads hash.

    With an on-disk projection, also check that it equals the fresh replay.
    """
    def run() -> None:
        kb = open_kb()
        digest = kb.rebuild()
        if State.projection is not None and kb.projection.canonical_hash() != digest:
            fail(f"the on-disk projection differs from a fresh replay ({digest})")
        if expect is not None and expect != digest:
            fail(f"canonical hash {digest} differs from the expected {expect}")
        typer.echo(digest)
    guarded(run)


@app.command()
def export(format: ExportFmt = typer.Option(ExportFmt.trig, "--format"),
           output: Path = typer.Option(None, "--output", "-o")) -> None:
    """Export the projection (every graph) as TriG, N-Quads or JSON-LD."""
    def run() -> None:
        from geokb.vocab import PREFIXES

        kb = open_kb()
        fmt = {"trig": ox.RdfFormat.TRIG, "nquads": ox.RdfFormat.N_QUADS,
               "jsonld": ox.RdfFormat.JSON_LD}[format.value]
        quads = sorted(kb.projection.quads(), key=str)
        options: dict[str, Any] = {}
        if format is ExportFmt.trig:
            options["prefixes"] = PREFIXES
        data = ox.serialize(quads, format=fmt, **options)
        if output is not None:
            output.write_bytes(data or b"")
        else:
            sys.stdout.write((data or b"").decode("utf-8"))
    guarded(run)


@app.command()
def check(directory: Path = typer.Option(None, "--dir", help="Default: <kb>/checks.")) -> None:
    """Run the KB's assertions (SPARQL ASK files); exit 1 naming each that fails."""
    def run() -> int:
        from geokb.ops.checks import run_checks

        results = run_checks(open_kb(), directory or State.kb_dir / "checks")
        failed = [r for r in results if not r.passed]
        for r in results:
            mark = "ok  " if r.passed else "FAIL"
            typer.echo(f"{mark} {r.path}: {r.title}")
        typer.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
        return 1 if failed else 0
    raise typer.Exit(guarded(run))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    token_env: str = typer.Option("GEOKB_TOKEN", "--token-env",
                                  help="Env var holding the bearer token for writes."),
) -> None:
    """Serve the SPARQL endpoint, REST API and web page over the KB."""
    def run() -> None:
        from geokb.http.runner import serve as serve_http
        from geokb.http.settings import Settings

        kb = open_kb()
        settings = Settings.from_env(token=os.environ.get(token_env) or None)
        serve_http(kb, settings, host=host, port=port, where=where())
    guarded(run)


def main() -> None:
    app()
