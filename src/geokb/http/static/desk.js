/* geokb web page: the analyst's desk — the home page (what is contested, what came in
 * last), the lists (entities by type, sources with their grades, recent events) and the
 * search page (names, descriptions, and the passages of the sources that hold the words).
 * Registers its views in window.geokb.views; app.js routes to them.
 */
"use strict";

(() => {
  const g = window.geokb;
  const { h, apiJson, routeOf, typeName, beginDetail, errorBox, views } = g;

  const plural = (n, one, many) => `${n} ${n === 1 ? one : many || `${one}s`}`;

  /** A table in its own sideways scroller (first column sticky), rows of cells. */
  function listTable(caption, heads, rows) {
    return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
      h("table", { class: "results list" },
        h("caption", { class: "visually-hidden" }, caption),
        h("thead", {}, h("tr", {}, heads.map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, rows.map((cells) => h("tr", {},
          cells.map((c, j) => h(j ? "td" : "th", { scope: j ? null : "row" }, c)))))));
  }

  async function load(kind, title, path, params) {
    const render = beginDetail(kind, `Loading ${title.toLowerCase()}…`);
    document.title = `${title} — geokb`;
    try {
      return { render, data: await apiJson(path, params) };
    } catch (e) {
      render(h("h1", {}, title), errorBox(e, `Could not load ${title.toLowerCase()}`));
      return { render, data: null };
    }
  }

  function sides(conflict) {
    return (conflict.sides || []).map((side, i) => [i ? h("span", { class: "vs" }, " vs ") : null,
      h("span", { class: `side-name${side.negated ? " negated" : ""}` }, side.label),
      h("span", { class: "muted small" }, ` (${(side.claims || []).map((c) => (c.speakers || []).map(g.speakerWords).join("; ") || "the source").join("; ")})`)]);
  }

  function contestedItem(k) {
    const on = k.on || {};
    const r = routeOf(on.iri || "");
    return h("li", { class: "contested-item" },
      h("a", { href: r || "#/", class: "contested-link" }, on.label || on.iri),
      h("span", { class: "muted" }, ` — ${k.property ? k.property.label : "a value"}`,
        k.contested_since ? `, contested since ${k.contested_since}` : ""),
      h("p", { class: "contested-sides" }, sides(k)));
  }

  views.home = async () => {
    const { render, data } = await load("home", "The desk", "/api/desk", new URLSearchParams({ limit: "6" }));
    if (!data) return;
    const n = data.counts;
    render(
      h("header", { class: "entity-head" },
        h("h1", {}, "The desk"),
        h("p", { class: "desk-counts" },
          h("a", { href: "#/entities" }, plural(n.entities, "entity", "entities")), " · ",
          h("a", { href: "#/sources" }, plural(n.sources, "source")), " · ",
          plural(n.claims, "live claim"), " · ",
          h("a", { href: "#/events" }, `log position ${data.position}`), " · ",
          h("a", { href: "#/query" }, "SPARQL"))),
      h("section", { class: "desk-section", "aria-labelledby": "contested-title" },
        h("h2", { id: "contested-title" }, "Contested now ", h("span", { class: "count" }, String(n.contested))),
        data.contested.length
          ? h("ul", { class: "contested-list" }, data.contested.map(contestedItem))
          : h("p", { class: "muted" }, "Nothing the KB holds is disputed at this time: every value has one side.")),
      h("section", { class: "desk-section", "aria-labelledby": "latest-title" },
        h("h2", { id: "latest-title" }, "Latest claims"),
        h("div", { class: "claim-list" }, data.latest_claims.map((c) => g.claimCard(c))),
        h("p", {}, h("a", { href: "#/events" }, "All recent events →"))));
  };

  views.entities = async ([type]) => {
    const params = type ? new URLSearchParams({ type }) : undefined;
    const { render, data } = await load("entities", "Entities", "/api/entities", params);
    if (!data) return;
    const chips = h("nav", { class: "type-chips", "aria-label": "Entity types" },
      h("a", { href: "#/entities", class: "chip", "aria-current": type ? null : "page" }, "all"),
      Object.entries(data.types || {}).map(([t, count]) => h("a", {
        href: `#/entities/${encodeURIComponent(t)}`, class: "chip", "aria-current": t === type ? "page" : null, title: t,
      }, `${typeName(t)} `, h("span", { class: "count" }, String(count)))));
    const rows = data.entities.map((e) => [
      h("a", { href: routeOf(e.iri) || "#/", title: e.iri }, e.label),
      e.types.map(typeName).join(", "),
      e.aliases.join(", "),
      h("span", { class: "num" }, String(e.claims))]);
    render(h("h1", {}, type ? `Entities: ${typeName(type)}` : "Entities"),
      h("p", { class: "muted" }, `${plural(data.entities.length, "entity", "entities")}, by name; claims: the live claims about each.`),
      chips, listTable("Entities", ["name", "types", "also called", "claims"], rows));
  };

  function grade(s) {
    if (!s.reliability && !s.credibility) return h("span", { class: "muted" }, "not graded");
    return h("span", { class: "badge grade", title: "Admiralty code: source reliability (A–F), information credibility (1–6)" },
      `${s.reliability || "?"}${s.credibility || "?"}`);
  }

  views.sources = async () => {
    const { render, data } = await load("sources", "Sources", "/api/sources");
    if (!data) return;
    const rows = data.sources.map((s) => [
      h("a", { href: routeOf(s.iri) || "#/", title: s.iri }, s.title || s.id),
      s.publisher || h("span", { class: "muted" }, "—"),
      s.published || h("span", { class: "muted" }, "—"),
      grade(s),
      h("span", { class: "num" }, String(s.claims)),
      s.retracted ? h("span", { class: "badge state state-retracted" }, "retracted") : ""]);
    render(h("h1", {}, "Sources"),
      h("p", { class: "muted" }, `${plural(data.sources.length, "source")}, by title; claims: the live claims derived from each.`),
      listTable("Sources", ["title", "publisher", "published", "grades", "claims", ""], rows));
  };

  views.events = async () => {
    const { render, data } = await load("events", "Recent events", "/api/events/recent", new URLSearchParams({ limit: "50" }));
    if (!data) return;
    render(h("h1", {}, "Recent events"),
      h("p", { class: "muted" }, `The last ${data.events.length} of ${data.head} events of the log, newest first.`),
      h("ol", { class: "event-list", reversed: true },
        data.events.map((e) => h("li", { class: "event-item", value: e.position },
          h("span", { class: "lc-pos" }, `#${e.position}`), " ",
          h("span", { class: "badge event-type" }, e.type), " ",
          e.link ? h("a", { href: e.link }, e.summary) : e.summary,
          h("span", { class: "muted small" }, ` · ${String(e.recorded_at || "").replace("T", " ").replace(/\.\d+Z$/, " UTC")} by ${e.recorded_by}`)))));
  };

  views.search = async ([q]) => {
    if (!q) { location.hash = "#/"; return; }
    const { render, data } = await load("search", `Search: ${q}`, "/api/search", new URLSearchParams({ q }));
    if (!data) return;
    const ents = data.entities.map((e) => h("li", {},
      h("a", { href: routeOf(e.iri) || "#/" }, e.label), " ",
      h("span", { class: "muted small" }, e.types.map(typeName).join(", ")),
      e.matched && e.matched !== e.label ? h("span", { class: "small" }, ` — named “${e.matched}”`) : null,
      e.description && !e.matched ? h("p", { class: "small description" }, e.description) : null));
    const sources = data.sources.map((src) => h("section", { class: "passages" },
      h("h3", {}, h("a", { href: routeOf(src.iri) || "#/" }, src.title || src.id), " ",
        h("span", { class: "count" }, String(src.count))),
      h("ol", {}, src.passages.map((p) => h("li", {},
        h("a", { href: `#/source/${src.id}/${p.start}-${p.end}`, class: "passage" },
          `…${p.before}`, h("mark", {}, p.match), `${p.after}…`))))));
    render(h("h1", {}, `“${q}”`),
      h("section", { class: "desk-section", "aria-labelledby": "found-entities" },
        h("h2", { id: "found-entities" }, "Entities ", h("span", { class: "count" }, String(ents.length))),
        ents.length ? h("ul", { class: "found-list" }, ents) : h("p", { class: "muted" }, "No entity has this name, alias or word in its description.")),
      h("section", { class: "desk-section", "aria-labelledby": "found-text" },
        h("h2", { id: "found-text" }, "In the sources"),
        sources.length ? sources : h("p", { class: "muted" }, "No source text holds it.")));
  };
})();
