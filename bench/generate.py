"""A deterministic generator of synthetic geokb knowledge bases, written as real event logs.

Same ``(claims, seed)`` → the same bytes: event ids, transaction times and choices all come
from one seeded ``random.Random``. Every event is sealed with geokb's own codec
(``codec.envelope_of`` → ``codec.content_hash`` → ``codec.encode``), so the log is canonical
and hash-chained and ``FileEventStore.read()`` / ``geokb verify`` accept it. Source texts
are stored where ``geokb.log.sources.FileSourceTexts`` keeps them (``sources/<sha256>.txt``)
and every quote is located in its text with ``geokb.write.claimfile.locate``.

Everything is marked synthetic: labels start with "Synthetic", ``recorded_by`` is
``bench:synthetic``, URLs are under ``synthetic.invalid``. Logs are written to a cache
directory (never ``kb/``), keyed by size, seed and generator version.

The admission path (rules + SHACL) is not used to generate: it is measured separately.

    python -m bench.generate --claims 10000 --seed 1 [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from geokb.log.codec import content_hash, encode, envelope_of, sha256_hex
from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    ENTITY_DECLARED,
    GENESIS_HASH,
    SCHEMA_VERSION,
    SOURCE_REGISTERED,
    RecordedEvent,
)
from geokb.log.file import LOG_NAME
from geokb.log.sources import FileSourceTexts
from geokb.write.claimfile import locate

GENERATOR_VERSION = 2  # 2: claims carry schema-2 speakers
AGENT = "bench:synthetic"
BASE = "https://w3id.org/geokb/"
GK = BASE + "ontology#"
ID = BASE + "id/"
CLAIM = BASE + "claim/"
SOURCE = BASE + "source/"
STATUS = BASE + "status/"
MODALITY = BASE + "modality/"

#: world classes and their share of the (non-outlet) entities
KINDS: list[tuple[str, str, float]] = [
    # (kind key, class local name, weight)
    ("person", "Person", 0.27),
    ("state", "State", 0.03),
    ("city", "City", 0.08),
    ("region", "Region", 0.02),
    ("navalbase", "NavalBase", 0.05),
    ("airfield", "Airfield", 0.05),
    ("agreement", "Agreement", 0.08),
    ("contract", "Contract", 0.02),
    ("organization", "Organization", 0.04),
    ("government", "Government", 0.02),
    ("commission", "Commission", 0.01),
    ("office", "Office", 0.05),
    ("visit", "Visit", 0.07),
    ("pressconference", "PressConference", 0.04),
    ("campaign", "MilitaryCampaign", 0.02),
    ("conflict", "ArmedConflict", 0.01),
    ("review", "Review", 0.02),
    ("reconstruction", "Reconstruction", 0.01),
    ("removal", "RemovalFromPower", 0.005),
    ("intervention", "MilitaryIntervention", 0.005),
]
GROUPS: dict[str, list[str]] = {
    "facility": ["navalbase", "airfield"],
    "agreement": ["agreement", "contract"],
    "person": ["person"],
    "state": ["state"],
    "place": ["city", "region"],
    "city": ["city"],
    "org": ["organization", "government", "commission"],
    "office": ["office"],
    "event": ["visit", "pressconference", "campaign", "conflict", "review", "reconstruction",
              "removal", "intervention"],
    "agent": ["person", "state", "organization", "government"],
}
STATUSES = ["operational", "under-review", "uncertain", "suspended", "withdrawn", "closed"]

#: (weight, subject group, predicate, object spec, phrase); object spec is a group name,
#: "status" (a status concept) or "literal"
TEMPLATES: list[tuple[float, str, str, str, str]] = [
    (10, "facility", "status", "status", "is now"),
    (4, "facility", "operatedBy", "state", "is operated by"),
    (3, "facility", "locatedIn", "place", "lies in"),
    (2, "facility", "assessment", "literal", "was described as"),
    (5, "agreement", "status", "status", "has the status"),
    (3, "agreement", "concerns", "facility", "concerns"),
    (2, "agreement", "overseenBy", "org", "is overseen by"),
    (6, "person", "holdsOffice", "office", "holds the office of"),
    (3, "person", "supports", "agent", "supports"),
    (2, "person", "praised", "agent", "praised"),
    (2, "person", "seeksRole", "literal", "seeks the role of"),
    (2, "person", "maintainsRelationsWith", "state", "maintains relations with"),
    (3, "state", "maintainsRelationsWith", "state", "maintains relations with"),
    (2, "state", "backedBy", "state", "is backed by"),
    (2, "state", "seeksPartnershipWith", "state", "seeks a partnership with"),
    (2, "state", "needs", "literal", "needs"),
    (1, "state", "balancesBetween", "state", "balances between itself and"),
    (6, "event", "participant", "agent", "had as participant"),
    (4, "event", "place", "place", "took place in"),
    (2, "event", "partOf", "event", "was part of"),
    (2, "event", "purpose", "literal", "had the purpose to"),
    (2, "event", "affects", "agent", "affected"),
    (1, "event", "firstSince", "event", "was the first since"),
    (1, "event", "announcedBy", "agent", "was announced by"),
    (2, "office", "officeOf", "state", "is an office of"),
    (2, "city", "locatedIn", "state", "is located in"),
]
MODALITIES = [("asserted", 0.55), ("quoted", 0.25), ("denied", 0.05), ("uncertain", 0.05),
              ("analysis", 0.10)]
FILLER = [
    "Officials declined to comment further on the synthetic report.",
    "The synthetic briefing continued for several hours.",
    "Analysts cited in this synthetic text expect further talks.",
    "No independent confirmation exists for this synthetic account.",
    "The situation in the synthetic region remains fluid.",
    "Further synthetic details were expected later in the week.",
]
RETRACT_P = 0.03
SUPERSEDE_P = 0.02
RECENT_WINDOW = 20_000


@dataclass
class Entity:
    slug: str
    kind: str
    cls: str
    label: str
    declared: bool = False

    @property
    def iri(self) -> str:
        return ID + self.slug


@dataclass
class Stats:
    events: dict[str, int] = field(default_factory=dict)
    entity_kinds: dict[str, int] = field(default_factory=dict)
    mentions: dict[str, int] = field(default_factory=dict)  # entity slug -> claims about it
    precision: dict[str, int] = field(default_factory=dict)
    modality: dict[str, int] = field(default_factory=dict)

    def bump(self, table: dict[str, int], key: str, n: int = 1) -> None:
        table[key] = table.get(key, 0) + n


class Generator:
    """Emits the events of one synthetic KB in log order (sealed, canonical)."""

    def __init__(self, claims: int, seed: int) -> None:
        self.target = claims
        self.seed = seed
        self.rng = random.Random(seed)
        self.stats = Stats()
        self.position = 0
        self.prev = GENESIS_HASH
        self.clock = datetime(2025, 1, 1, tzinfo=UTC)
        n_entities = max(400, claims // 8)
        self.entities: dict[str, list[Entity]] = {}
        total_w = sum(w for _, _, w in KINDS)
        for key, cls, w in KINDS:
            n = max(8, round(n_entities * w / total_w))
            self.entities[key] = [
                Entity(f"syn-{key}-{i:06d}", key, cls, f"Synthetic {_words(cls)} {i:06d}")
                for i in range(n)]
        n_outlets = min(2000, max(20, claims // 500))
        self.outlets = [Entity(f"syn-outlet-{i:05d}", "outlet", "NewsOutlet",
                               f"Synthetic News Outlet {i:05d}") for i in range(n_outlets)]
        self.template_weights = [t[0] for t in TEMPLATES]
        self.claims_made = 0
        self.sources_made = 0
        self.live: list[str] = []  # recent live claims (IRIs), for retractions/supersessions
        self.claim_facts: dict[str, tuple[str, str, str]] = {}  # IRI -> subject, pred, group
        self.write_material: list[dict[str, Any]] = []

    # -- picking ---------------------------------------------------------------------

    def pick(self, group: str) -> Entity:
        kind = self.rng.choice(GROUPS[group])
        pool = self.entities[kind]
        # skewed popularity: a few entities are mentioned far more often than most
        return pool[int(len(pool) * self.rng.random() ** 1.6)]

    def pick_outlet(self) -> Entity:
        return self.outlets[int(len(self.outlets) * self.rng.random() ** 1.4)]

    def date(self) -> tuple[str | None, str]:
        r = self.rng.random()
        year = self.rng.randint(1990, 2026)
        month = self.rng.randint(1, 12)
        day = self.rng.randint(1, 28)
        if r < 0.30:
            return f"{year:04d}-{month:02d}-{day:02d}", "day"
        if r < 0.55:
            return f"{year:04d}-{month:02d}", "month"
        if r < 0.70:
            return f"{year:04d}", "year"
        return None, "unknown"

    # -- sealing ---------------------------------------------------------------------

    def seal(self, event_type: str, payload: dict[str, Any]) -> bytes:
        self.position += 1
        self.clock += timedelta(seconds=self.rng.randint(1, 90),
                                microseconds=self.rng.randint(0, 999_999))
        draft = RecordedEvent(
            id=f"{self.rng.getrandbits(128):032x}", type=event_type, schema=SCHEMA_VERSION,
            position=self.position, recorded_at=self.clock.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            recorded_by=AGENT, payload=payload, prev=self.prev, hash="")
        digest = content_hash(envelope_of(draft))
        sealed = RecordedEvent(**{**draft.__dict__, "hash": digest})
        self.prev = digest
        self.stats.bump(self.stats.events, event_type)
        return encode(sealed)

    def declare(self, ent: Entity) -> bytes:
        ent.declared = True
        self.stats.bump(self.stats.entity_kinds, ent.cls)
        payload: dict[str, Any] = {
            "entity": ent.iri, "types": [GK + ent.cls], "label": ent.label,
            "aliases": [], "same_as": [],
            "description": f"A synthetic {_words(ent.cls).lower()} generated for benchmarks.",
        }
        if self.rng.random() < 0.3:
            payload["aliases"] = [f"Syn {ent.cls[:3]} {ent.slug.rsplit('-', 1)[1]}"]
        return self.seal(ENTITY_DECLARED, payload)

    # -- one source and its claims ----------------------------------------------------

    def source_block(self) -> Iterator[bytes]:
        rng = self.rng
        self.sources_made += 1
        n = self.sources_made
        k = min(self.target - self.claims_made, rng.randint(8, 32))
        publisher = self.pick_outlet()
        drafts: list[dict[str, Any]] = []
        needed: list[Entity] = [] if publisher.declared else [publisher]
        supersede_of: dict[int, str] = {}
        for i in range(k):
            drafts.append(self.claim_draft(n, i, needed, supersede_of))
        # the text: a headline, then each claim's sentence, with filler between
        parts = [f"Synthetic article {n:06d} (generated for geokb benchmarks)"]
        sentences: list[str] = []
        for d in drafts:
            if rng.random() < 0.5:
                parts.append(rng.choice(FILLER))
            parts.append(d["quote"] + ".")
            sentences.append(d["quote"])
        text = "\n\n".join(parts) + "\n"
        sha = sha256_hex(text.encode("utf-8"))
        self.texts_pending.append((sha, text))
        for ent in needed:
            if not ent.declared:
                yield self.declare(ent)
        published, _prec = self.date()
        src_payload: dict[str, Any] = {
            "source": f"{SOURCE}syn-src-{n:06d}", "sha256": sha,
            "title": f"Synthetic article {n:06d}", "media_type": "text/plain",
            "publisher": publisher.iri, "language": "en",
            "url": f"https://synthetic.invalid/articles/{n:06d}",
            "section": rng.choice(["World", "Politics", "Defence", "Economy"]),
        }
        if published is not None:
            src_payload["published"] = published
        yield self.seal(SOURCE_REGISTERED, src_payload)
        cursor = 0
        endings: list[tuple[str, dict[str, Any]]] = []
        for i, d in enumerate(drafts):
            start = text.index(d["quote"] + ".", cursor)
            cursor = start + len(d["quote"])
            evidence = locate(text, d["quote"], start=start)
            payload = d["payload"]
            payload["source"] = src_payload["source"]
            payload["evidence"] = evidence
            yield self.seal(CLAIM_ASSERTED, payload)
            self.claims_made += 1
            iri = payload["claim"]
            if i in supersede_of:
                old = supersede_of[i]
                endings.append((CLAIM_SUPERSEDED, {
                    "claim": old, "by": iri,
                    "reason": "Synthetic correction: a later report gives another value."}))
            self.live.append(iri)
            if rng.random() < RETRACT_P and len(self.live) > 10:
                victim = self.take_live()
                if victim is not None:
                    endings.append((CLAIM_RETRACTED, {
                        "claim": victim[0], "reason": "Synthetic retraction: the outlet withdrew "
                                                   "the report."}))
        # retractions and supersessions follow the block whose claims they concern
        for event_type, ending in endings:
            yield self.seal(event_type, ending)
        if len(self.write_material) < 64:
            self.write_material.append({"source": f"syn-src-{n:06d}",
                                        "quotes": sentences[:8]})

    def take_live(self) -> tuple[str, tuple[str, str, str]] | None:
        """Remove and return a random recent live claim and its (subject, predicate, group)."""
        if not self.live:
            return None
        lo = max(0, len(self.live) - RECENT_WINDOW)
        j = self.rng.randrange(lo, len(self.live))
        self.live[j], self.live[-1] = self.live[-1], self.live[j]
        iri = self.live.pop()
        return iri, self.claim_facts.pop(iri)

    def claim_draft(self, n: int, i: int, needed: list[Entity],
                    supersede_of: dict[int, str]) -> dict[str, Any]:
        rng = self.rng
        number = self.claims_made + i + 1
        old = None
        if rng.random() < SUPERSEDE_P and len(self.live) > 10:
            old = self.take_live()
        if old is not None:
            _old_iri, (subj_slug, pred, obj_group) = old
            tpl = next(t for t in TEMPLATES if t[2] == pred and t[3] == obj_group)
            subject = self.by_slug(subj_slug)
        else:
            tpl = TEMPLATES[_weighted(rng, self.template_weights)]
            subject = self.pick(tpl[1])
        _w, _group, pred, obj_spec, phrase = tpl
        obj_label: str
        if obj_spec == "status":
            value = rng.choice(STATUSES)
            obj: dict[str, str] = {"iri": STATUS + value}
            obj_label = value.replace("-", " ")
        elif obj_spec == "literal":
            obj_label = f"synthetic value {rng.randrange(100_000)}"
            obj = {"value": obj_label, "lang": "en"}
        else:
            target = self.pick(obj_spec)
            if target is subject:
                target = self.pick(obj_spec)
            obj = {"iri": target.iri}
            obj_label = target.label
            self.note(target, needed)
        self.note(subject, needed)
        modality = MODALITIES[_weighted(rng, [w for _, w in MODALITIES])][0]
        self.stats.bump(self.stats.modality, modality)
        payload: dict[str, Any] = {
            "claim": f"{CLAIM}syn-c-{number:07d}", "subject": subject.iri,
            "predicate": GK + pred, "object": obj, "modality": MODALITY + modality,
            "reported_via": [],
        }
        lead = ""
        if modality == "quoted":
            speaker = self.pick("person") if rng.random() < 0.8 else self.pick("agent")
            self.note(speaker, needed)
            payload["speakers"] = [{"entity": speaker.iri}]  # schema 2
            lead = f"{speaker.label} said that "
            hops = _weighted(rng, [0.15, 0.6, 0.2, 0.05])
        else:
            hops = 1 if rng.random() < 0.25 else 0
        outlets: list[Entity] = []
        for _ in range(hops):
            o = self.pick_outlet()
            if o not in outlets:
                outlets.append(o)
        for o in outlets:
            self.note(o, needed)
        payload["reported_via"] = [o.iri for o in outlets]
        if outlets:
            lead = f"According to {outlets[0].label}, " + lead
        if modality == "denied":
            lead += "it was denied that "
        elif modality == "uncertain":
            lead += "it is unclear whether "
        elif modality == "analysis":
            lead += "in this synthetic analysis, "
        frm, prec = self.date()
        self.stats.bump(self.stats.precision, prec)
        if frm is not None:
            payload["valid_from"] = frm
            if rng.random() < 0.2:
                payload["valid_until"] = str(int(frm[:4]) + rng.randint(0, 5))
        if rng.random() < 0.3:
            payload["confidence"] = rng.choice(["0.5", "0.6", "0.7", "0.8", "0.9", "1.0"])
        if rng.random() < 0.1:
            payload["note"] = "Synthetic note: generated for benchmarks."
        quote = f"{lead}{subject.label} {phrase} {obj_label} (synthetic item {number})"
        quote = quote[0].upper() + quote[1:]
        self.stats.bump(self.stats.mentions, subject.slug)
        if "iri" in obj and obj["iri"].startswith(ID):
            self.stats.bump(self.stats.mentions, obj["iri"][len(ID):])
        if old is not None:
            supersede_of[i] = old[0]
        self.claim_facts[payload["claim"]] = (subject.slug, pred, obj_spec)
        return {"payload": payload, "quote": quote}

    def by_slug(self, slug: str) -> Entity:
        kind = slug.split("-")[1]
        return self.entities[kind][int(slug.rsplit("-", 1)[1])]

    @staticmethod
    def note(ent: Entity, needed: list[Entity]) -> None:
        if not ent.declared and ent not in needed:
            needed.append(ent)

    def run(self, log_path: Path, texts: FileSourceTexts) -> None:
        """Write the whole log to ``log_path`` and the texts to ``texts``."""
        self.texts_pending: list[tuple[str, str]] = []
        texts.directory.mkdir(parents=True, exist_ok=True)
        buf: list[bytes] = []
        size = 0
        with open(log_path, "wb") as fh:
            while self.claims_made < self.target:
                for line in self.source_block():
                    buf.append(line)
                    size += len(line)
                for sha, text in self.texts_pending:
                    # the FileSourceTexts layout; no fsync per file (a cache, not a KB)
                    texts.path_for(sha).write_bytes(text.encode("utf-8"))
                self.texts_pending.clear()
                if size > 8 << 20:
                    fh.write(b"".join(buf))
                    buf.clear()
                    size = 0
            fh.write(b"".join(buf))


def _weighted(rng: random.Random, weights: list[float]) -> int:
    x = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        x -= w
        if x < 0:
            return i
    return len(weights) - 1


def _words(cls: str) -> str:
    out = ""
    for ch in cls:
        out += (" " + ch.lower()) if ch.isupper() and out else ch
    return out


# -- cache ------------------------------------------------------------------------


def default_cache() -> Path:
    return Path(os.environ.get("GEOKB_BENCH_CACHE")
                or Path(tempfile.gettempdir()) / "geokb-bench-cache")


def kb_path(claims: int, seed: int, cache: Path | None = None) -> Path:
    return (cache or default_cache()) / f"kb-{claims}-seed{seed}-v{GENERATOR_VERSION}"


def load_manifest(directory: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((directory / "manifest.json").read_text())
    return result


def ensure_kb(claims: int, seed: int, cache: Path | None = None, *,
              quiet: bool = False) -> tuple[Path, dict[str, Any]]:
    """The directory of the synthetic KB for ``(claims, seed)``, generating it if needed."""
    target = kb_path(claims, seed, cache)
    if (target / "manifest.json").exists():
        return target, load_manifest(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
    try:
        if not quiet:
            print(f"bench: generating {claims:,} synthetic claims (seed {seed}) in {target} …",
                  file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        gen = Generator(claims, seed)
        gen.run(tmp / LOG_NAME, FileSourceTexts(tmp))
        elapsed = time.perf_counter() - t0
        mentions = sorted(gen.stats.mentions.values())
        manifest = {
            "generator_version": GENERATOR_VERSION, "claims": claims, "seed": seed,
            "events": gen.position, "sources": gen.sources_made,
            "event_types": gen.stats.events, "entity_classes": gen.stats.entity_kinds,
            "modality": gen.stats.modality, "valid_from_precision": gen.stats.precision,
            "entities_declared": sum(gen.stats.entity_kinds.values()),
            "claims_per_entity": {
                "median": mentions[len(mentions) // 2] if mentions else 0,
                "p99": mentions[min(len(mentions) - 1, int(len(mentions) * 0.99))]
                if mentions else 0,
                "max": mentions[-1] if mentions else 0},
            "head_hash": gen.prev,
            "log_bytes": (tmp / LOG_NAME).stat().st_size,
            "generation_seconds": round(elapsed, 2),
            "query_entities": _query_entities(gen),
            "write_material": gen.write_material,
            "write_entities": {g: [e.slug for e in _declared(gen, g)[:50]]
                               for g in ("facility", "state", "person", "event", "place")},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
        return target, manifest
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _declared(gen: Generator, group: str) -> list[Entity]:
    out: list[Entity] = []
    for kind in GROUPS[group]:
        out.extend(e for e in gen.entities[kind] if e.declared)
    return out


def _query_entities(gen: Generator) -> list[list[Any]]:
    """A fixed random sample of entities with at least one claim: ``[slug, claims]``."""
    rng = random.Random(gen.seed * 7919 + 17)
    about = sorted(gen.stats.mentions.items())
    rng.shuffle(about)
    return [[slug, n] for slug, n in about[:2000]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args(argv)
    path, manifest = ensure_kb(args.claims, args.seed, args.cache)
    summary = {k: v for k, v in manifest.items() if k not in ("query_entities", "write_material",
                                                              "write_entities")}
    print(json.dumps({"path": str(path), **summary}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
