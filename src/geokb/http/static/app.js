/* geokb web page, the core: helpers, entity, claim and source views, the SPARQL editor,
 * search and routing, over the HTTP API. desk.js adds the home page and the lists,
 * chart.js the timeline chart; both register views in window.geokb.views.
 *
 * Plain JavaScript, no framework, no external assets. Every piece of server text goes
 * into the page through textContent / createTextNode (the h() helper), never innerHTML.
 * Routes: #/ (home), #/entities, #/sources, #/events, #/search/<text>, #/query,
 * #/entity/<slug>, #/entity/<slug>/timeline, #/claim/<id>, #/source/<slug>[/<start>-<end>].
 */
"use strict";

(() => {
  // ---------------------------------------------------------------- vocabulary
  const BASE = "https://w3id.org/geokb/";
  const PREFIXES = {
    gk: BASE + "ontology#",
    id: BASE + "id/",
    claim: BASE + "claim/",
    source: BASE + "source/",
    event: BASE + "event/",
    status: BASE + "status/",
    modality: BASE + "modality/",
    precision: BASE + "precision/",
    rdf: "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    rdfs: "http://www.w3.org/2000/01/rdf-schema#",
    owl: "http://www.w3.org/2002/07/owl#",
    xsd: "http://www.w3.org/2001/XMLSchema#",
    skos: "http://www.w3.org/2004/02/skos/core#",
    prov: "http://www.w3.org/ns/prov#",
    oa: "http://www.w3.org/ns/oa#",
    dcterms: "http://purl.org/dc/terms/",
    time: "http://www.w3.org/2006/time#",
  };
  const SLUG = /^[a-z0-9][a-z0-9-]{0,127}$/;
  const MODALITY_HELP = {
    asserted: "The source states it in its own voice.",
    quoted: "Speech the source attributes to a speaker.",
    denied: "The source reports it as denied.",
    uncertain: "The source reports it as uncertain.",
    analysis: "The author's own analysis, opinion or framing — not reported fact.",
  };
  const STATE_HELP = {
    live: "Part of what the KB holds now (at the chosen log position).",
    retracted: "Withdrawn by a later event of the log.",
    superseded: "Replaced by another claim in a later event of the log.",
  };
  const MAX_ROWS = 2000;
  const LONG_QUERY = 6000;

  // ---------------------------------------------------------------- DOM helpers
  /** Build an element. Children: strings (as text), nodes, arrays, null/false (skipped). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = String(value);
      else if (key === "href") {
        const safe = safeHref(value);
        if (safe) el.setAttribute("href", safe);
      } else if (key.startsWith("on") && typeof value === "function") {
        el.addEventListener(key.slice(2), value);
      } else if (key === "dataset") {
        for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
      } else {
        el.setAttribute(key, value === true ? "" : String(value));
      }
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) append(el, child);
      else if (child instanceof Node) el.appendChild(child);
      else el.appendChild(document.createTextNode(String(child)));
    }
    return el;
  }

  function safeHref(value) {
    const s = String(value);
    if (s.startsWith("#/") || (s.startsWith("/") && !s.startsWith("//"))) return s;
    try {
      const u = new URL(s);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch {
      return null;
    }
  }

  const $ = (id) => document.getElementById(id);

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  // ---------------------------------------------------------------- IRIs
  function compact(iri) {
    let best = null;
    for (const [prefix, base] of Object.entries(PREFIXES)) {
      if (iri.startsWith(base) && (!best || base.length > PREFIXES[best].length)) best = prefix;
    }
    if (best) {
      const local = iri.slice(PREFIXES[best].length);
      if (/^[A-Za-z0-9_.-]*$/.test(local)) return `${best}:${local}`;
    }
    return iri;
  }

  /** The page route of a geokb IRI (entity, claim or source), or null. */
  function routeOf(iri) {
    for (const kind of ["id", "claim", "source"]) {
      const base = PREFIXES[kind];
      if (iri.startsWith(base)) {
        const local = iri.slice(base.length);
        if (SLUG.test(local)) return `#/${kind === "id" ? "entity" : kind}/${local}`;
      }
    }
    return null;
  }

  const localName = (iri) => String(iri).split(/[#/:]/).pop();
  /** "gk:NavalBase" → "Naval base". */
  const typeName = (t) => {
    const words = localName(t).replace(/([a-z])([A-Z])/g, "$1 $2");
    return words.charAt(0) + words.slice(1).toLowerCase();
  };

  function iriLink(iri, text, cls) {
    const r = routeOf(iri);
    const label = text || compact(iri);
    if (r) return h("a", { href: r, class: cls || "iri", title: iri }, label);
    return h("span", { class: cls || "iri", title: iri }, label);
  }

  // ---------------------------------------------------------------- time travel
  const time = { asOf: "", validAt: "" };
  const AS_OF = /^(\d+|\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)$/;
  const VALID_AT = /^\d{4}(-\d{2}(-\d{2})?)?$/;

  function timeParams({ validAt = true } = {}) {
    const p = new URLSearchParams();
    if (time.asOf) p.set("as_of", time.asOf);
    if (validAt && time.validAt) p.set("valid_at", time.validAt);
    return p;
  }

  function timeBanner() {
    if (!time.asOf && !time.validAt) return null;
    const parts = [];
    if (time.asOf) parts.push(`as known at ${/^\d+$/.test(time.asOf) ? "log position " : ""}${time.asOf}`);
    if (time.validAt) parts.push(`valid at ${time.validAt}`);
    return h("p", { class: "time-banner", role: "note" },
      "Time travel: ", h("strong", {}, parts.join(" · ")), " ",
      h("button", { type: "button", class: "linkish", onclick: resetTime }, "back to now"));
  }

  function applyTime(ev) {
    if (ev) ev.preventDefault();
    const asOf = $("as-of").value.trim();
    const validAt = $("valid-at").value.trim();
    const problems = [];
    if (asOf && !AS_OF.test(asOf)) problems.push(`“As known at” takes a log position (a number) or a UTC date-time such as 2026-11-28T10:00:00Z, not “${asOf}”.`);
    if (validAt && !VALID_AT.test(validAt)) problems.push(`“Valid at” takes a date of year, month or day precision (2024, 2024-12, 2024-12-08), not “${validAt}”.`);
    const err = $("time-error");
    if (problems.length) {
      err.textContent = problems.join(" ");
      err.hidden = false;
      return;
    }
    err.hidden = true;
    time.asOf = asOf;
    time.validAt = validAt;
    $("as-of").classList.toggle("active", !!asOf);
    $("valid-at").classList.toggle("active", !!validAt);
    if (currentView === "query") {
      if (lastQuery !== null) runQuery(lastQuery);
    } else {
      route();
    }
  }

  function resetTime() {
    $("as-of").value = "";
    $("valid-at").value = "";
    applyTime();
  }

  // ---------------------------------------------------------------- API
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function messageOf(detail) {
    if (detail === null || detail === undefined) return "";
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail.map((d) => (d && d.msg ? `${(d.loc || []).join(".")}: ${d.msg}` : messageOf(d))).join("; ");
    }
    if (typeof detail === "object") {
      return messageOf(detail.message ?? detail.error ?? detail.detail) || JSON.stringify(detail);
    }
    return String(detail);
  }

  async function api(path, params, accept = "application/json", init = {}) {
    const qs = params && [...params.keys()].length ? `?${params}` : "";
    let res;
    try {
      res = await fetch(path + qs, { ...init, headers: { Accept: accept, ...(init.headers || {}) } });
    } catch (e) {
      throw new ApiError(0, `Cannot reach the geokb server (${e.message}).`);
    }
    if (!res.ok) {
      const text = await res.text();
      let message = text.trim();
      if ((res.headers.get("content-type") || "").includes("json")) {
        try {
          const body = JSON.parse(text);
          message = messageOf(body.detail ?? body.error ?? body.message ?? body) || message;
        } catch {
          /* keep the text */
        }
      }
      throw new ApiError(res.status, message || `${res.status} ${res.statusText}`);
    }
    return res;
  }

  const apiJson = async (path, params) => (await api(path, params)).json();

  function errorBox(err, what) {
    const status = err instanceof ApiError && err.status ? ` (HTTP ${err.status})` : "";
    return h("div", { class: "error", role: "alert" },
      h("p", { class: "error-title" }, `${what}${status}`),
      h("pre", { class: "error-message" }, err.message || String(err)));
  }

  async function refreshHead() {
    try {
      const body = await apiJson("/api/health");
      const pos = body.position;
      $("log-head").textContent = `log head: ${pos}`;
      $("as-of").placeholder = `log head (${pos})`;
    } catch (e) {
      $("log-head").textContent = "log head: server unreachable";
    }
  }

  // ---------------------------------------------------------------- common rendering
  function modalityBadge(m) {
    return h("span", { class: `badge modality modality-${localName(m)}`, title: MODALITY_HELP[localName(m)] || "" },
      localName(m));
  }

  function statusBadge(term) {
    const slug = localName(term.iri || term.value || "");
    return h("span", { class: `badge status status-${slug}`, title: term.iri || "" }, term.label || slug);
  }

  function stateBadge(state) {
    if (!state || state === "live") return null;
    return h("span", { class: `badge state state-${state}`, title: STATE_HELP[state] || "" }, state);
  }

  /** A term of a claim's statement: entity link, status badge, or quoted literal. */
  function termView(term, { current } = {}) {
    if (!term) return h("span", { class: "muted" }, "—");
    if (term.iri) {
      if (term.iri.startsWith(PREFIXES.status)) return statusBadge(term);
      const label = term.label || compact(term.iri);
      if (current && term.iri === current) return h("span", { class: "term term-self", title: term.iri }, label);
      return iriLink(term.iri, label, "term");
    }
    return h("span", { class: "literal" }, `“${term.value}”`,
      term.lang ? h("span", { class: "lang" }, `@${term.lang}`) : null);
  }

  function statement(st, opts) {
    return h("span", { class: "statement" },
      termView(st.subject, opts), " ",
      h("span", { class: "predicate", title: st.predicate.iri }, st.predicate.label || compact(st.predicate.iri)),
      " ", termView(st.object, opts));
  }

  function formatDate(d) {
    if (!d) return null;
    return h("span", { class: "date" }, d.value,
      h("span", { class: "precision", title: "precision of the date" }, d.precision));
  }

  function validTime(vt) {
    const from = vt && vt.from;
    const until = vt && vt.until;
    if (!from && !until) return h("span", { class: "muted" }, "not stated");
    if (from && until && from.value === until.value && from.precision === until.precision) {
      return h("span", {}, "at ", formatDate(from));
    }
    return h("span", {}, from ? ["from ", formatDate(from)] : null, from && until ? " " : null,
      until ? ["until ", formatDate(until)] : null);
  }

  function sourceSlug(iri) {
    return iri && iri.startsWith(PREFIXES.source) ? iri.slice(PREFIXES.source.length) : null;
  }

  /** Who said it, who passed it on, where we read it: speaker → outlets → source. */
  function attributionChain(claim, vertical) {
    const steps = [];
    const speakers = claim.speakers || [];
    if (!speakers.length && claim.speaker) steps.push(h("li", {}, h("span", { class: "chain-role" }, "said by"), termView(claim.speaker)));
    else {
      for (const sp of speakers) {
        const body = sp.spokesperson_for || sp.affiliation;
        steps.push(h("li", {}, h("span", { class: "chain-role" }, "said by"),
          sp.iri ? iriLink(sp.iri, sp.label, "term speaker-link")
            : h("span", { class: "chain-who" }, h("span", { class: "term" }, `${sp.anonymous}, unnamed`),
              body ? [h("span", { class: "muted" }, sp.spokesperson_for ? " speaking for " : " of "),
                iriLink(body.iri, body.label, "term speaker-link")] : null)));
      }
    }
    for (const outlet of claim.reported_via || []) {
      steps.push(h("li", {}, h("span", { class: "chain-role" }, "reported via"), termView(outlet)));
    }
    const src = claim.source;
    steps.push(h("li", {}, h("span", { class: "chain-role" }, "in source"),
      h("span", { class: "chain-who" }, iriLink(src.iri, src.title || compact(src.iri), "term"),
        src.publisher ? [h("span", { class: "muted" }, " published by "),
          iriLink(src.publisher.iri, src.publisher.label, "term outlet-link")] : null)));
    return h("ol", { class: vertical ? "chain chain-vertical" : "chain", "aria-label": "Attribution chain" }, steps);
  }

  function recordedAt(text) {
    return String(text || "").replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC");
  }

  function lifecycleList(lc) {
    const items = [];
    const event = (kind, e, extra) => h("li", { class: `lc lc-${kind}` },
      h("span", { class: "lc-kind" }, kind),
      h("span", { class: "lc-pos", title: `event ${e.event}` }, `position ${e.position}`),
      h("span", { class: "lc-when" }, recordedAt(e.recorded_at)),
      h("span", { class: "lc-who" }, `by ${e.recorded_by}`),
      extra);
    if (lc.asserted) items.push(event("asserted", lc.asserted));
    if (lc.superseded) {
      items.push(event("superseded", lc.superseded, h("span", { class: "lc-reason" },
        "by ", iriLink(lc.superseded.by), lc.superseded.reason ? ` — ${lc.superseded.reason}` : "")));
    }
    if (lc.retracted) {
      items.push(event("retracted", lc.retracted,
        h("span", { class: "lc-reason" }, lc.retracted.reason ? `reason: ${lc.retracted.reason}` : "")));
    }
    return h("ol", { class: "lifecycle" }, items);
  }

  /** One claim as a card: statement, badges, quote, time, attribution. */
  function claimCard(c, { current } = {}) {
    const state = c.lifecycle && c.lifecycle.state;
    return h("article", { class: `claim-card state-${state || "live"}`, dataset: { claim: c.id } },
      h("div", { class: "card-head" },
        statement(c.statement, { current }),
        h("span", { class: "badges" }, modalityBadge(c.modality), stateBadge(state))),
      h("blockquote", { class: "quote", cite: c.source && c.source.iri },
        h("a", { href: `#/claim/${c.id}`, title: "Open the claim and its evidence in the source" }, c.evidence.quote)),
      h("dl", { class: "card-meta" },
        h("div", {}, h("dt", {}, "valid"), h("dd", {}, validTime(c.valid_time))),
        h("div", {}, h("dt", {}, "attribution"), h("dd", {}, attributionChain(c))),
        c.note ? h("div", {}, h("dt", {}, "note"), h("dd", { class: "note" }, c.note)) : null),
      h("p", { class: "card-foot" },
        h("a", { href: `#/claim/${c.id}`, class: "more" }, "Evidence & lifecycle →"),
        h("span", { class: "muted small" }, ` claim:${c.id}`)));
  }

  // ---------------------------------------------------------------- source text
  /**
   * The source text with evidence spans. `spans` carry code point offsets [start, end):
   * JavaScript strings are UTF-16, so the text is split into code points first.
   * The claim `focus` is wrapped in <mark id="evidence">; other claims' spans are
   * underlined links to their claim (the shortest span covering a stretch wins).
   */
  function sourceText(text, spans, focus) {
    const cps = Array.from(text);
    const n = cps.length;
    const inRange = (s) => Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.start < s.end && s.end <= n;
    const others = spans.filter((s) => inRange(s) && (!focus || s.id !== focus.id));
    const cuts = new Set([0, n]);
    for (const s of others) { cuts.add(s.start); cuts.add(s.end); }
    if (focus) { cuts.add(focus.start); cuts.add(focus.end); }
    const points = [...cuts].sort((a, b) => a - b);
    const body = h("div", { class: "source-text", tabindex: "0", "aria-label": "Source text" });
    let mark = null;
    for (let i = 0; i + 1 < points.length; i++) {
      const a = points[i];
      const b = points[i + 1];
      const piece = cps.slice(a, b).join("");
      const covering = others.filter((s) => s.start <= a && s.end >= b);
      let node;
      if (covering.length) {
        const best = covering.reduce((x, y) => (y.end - y.start < x.end - x.start ? y : x));
        const title = covering.length === 1
          ? `claim:${best.id} (${best.modality})`
          : `${covering.length} claims cite this passage; opens claim:${best.id}`;
        node = h("a", {
          class: `span depth-${Math.min(covering.length, 3)}${best.live === false ? " ended" : ""}`,
          href: `#/claim/${best.id}`, title,
        }, piece);
      } else {
        node = document.createTextNode(piece);
      }
      if (focus && a >= focus.start && b <= focus.end) {
        if (!mark) {
          mark = h("mark", { id: "evidence", title: focus.title || `evidence of claim:${focus.id}` });
          body.appendChild(mark);
        }
        mark.appendChild(node);
      } else {
        body.appendChild(node);
      }
    }
    return { body, mark, slice: (s, e) => cps.slice(s, e).join(""), length: n };
  }

  /** Bring the evidence into view: inside the source pane when it scrolls on its own
   *  (wide screens), else in the window. */
  function scrollToMark(pane, mark) {
    if (!mark) return;
    requestAnimationFrame(() => {
      if (getComputedStyle(pane).overflowY !== "visible" && pane.scrollHeight > pane.clientHeight + 4) {
        const top = mark.getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop;
        pane.scrollTop = Math.max(0, top - pane.clientHeight / 3);
      }
      const bar = document.querySelector(".topbar");
      const barBottom = bar && getComputedStyle(bar).position === "sticky" ? bar.getBoundingClientRect().bottom : 0;
      const r = mark.getBoundingClientRect();
      if (r.top < barBottom || r.bottom > window.innerHeight) mark.scrollIntoView({ block: "center" });
    });
  }

  function sourceMeta(src) {
    const rows = [];
    const row = (k, v) => { if (v) rows.push(h("div", {}, h("dt", {}, k), h("dd", {}, v))); };
    row("publisher", src.publisher ? iriLink(src.publisher) : null);
    row("published", src.published ? formatDate({ value: src.published, precision: src.publication_precision }) : h("span", { class: "muted" }, "date not stated"));
    row("url", src.url && safeHref(src.url) ? h("a", { href: src.url, rel: "noopener noreferrer", target: "_blank" }, src.url) : src.url);
    row("language", src.language);
    row("section", src.section);
    row("sha-256", h("code", { class: "hash", title: "SHA-256 of the stored UTF-8 text" }, src.sha256));
    return h("dl", { class: "facts compact" }, rows);
  }

  // ---------------------------------------------------------------- views
  let currentView = "query";
  let renderSeq = 0;
  let queryScrollY = 0;
  const detail = () => $("view-detail");

  function showQueryView() {
    const returning = currentView !== "query";
    currentView = "query";
    ++renderSeq;
    $("view-query").hidden = false;
    detail().hidden = true;
    if (returning) window.scrollTo(0, queryScrollY);
    markNav("query");
    document.title = "Query — geokb";
  }

  /** Mark the main navigation's link of the view `kind` as the current page. */
  function markNav(kind) {
    for (const a of document.querySelectorAll(".mainnav a")) {
      if (a.dataset.view === kind) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
  }

  /** Switch to the detail pane; returns a function that renders only if still current. */
  function beginDetail(kind, loadingText) {
    if (currentView === "query") queryScrollY = window.scrollY;
    currentView = kind;
    window.scrollTo(0, 0);
    $("view-query").hidden = true;
    markNav(kind);
    const pane = detail();
    pane.hidden = false;
    clear(pane).appendChild(h("p", { class: "loading" }, loadingText));
    const seq = ++renderSeq;
    return (...nodes) => {
      if (seq !== renderSeq) return false;
      clear(pane);
      append(pane, nodes);
      const heading = pane.querySelector("h1");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.focus({ preventScroll: true });
      }
      return true;
    };
  }

  function notFound(message) {
    const render = beginDetail("missing", "");
    render(h("h1", {}, "Not found"), h("p", {}, message), h("p", {}, h("a", { href: "#/query" }, "Back to the query page")));
  }

  async function entityView(slug, tab) {
    const render = beginDetail("entity", "Loading entity…");
    const path = `/api/entities/${encodeURIComponent(slug)}/${tab === "timeline" ? "timeline" : "status"}`;
    let data;
    try {
      data = await apiJson(path, timeParams());
    } catch (e) {
      render(h("h1", {}, `id:${slug}`), timeBanner(), errorBox(e, "Could not load this entity"));
      return;
    }
    const ent = data.entity;
    document.title = `${ent.label} — geokb`;
    const head = h("header", { class: "entity-head" },
      h("p", { class: "kicker" }, (ent.types || []).map((t) => h("span", { class: "chip", title: t }, typeName(t)))),
      h("h1", {}, ent.label),
      h("p", { class: "iri-line" }, h("code", { title: ent.iri }, compact(ent.iri))),
      ent.aliases && ent.aliases.length
        ? h("p", { class: "aliases" }, h("span", { class: "muted" }, "also called "),
          ent.aliases.map((a, i) => [i ? ", " : "", h("span", { class: "alias" }, a)]))
        : null,
      ent.same_as && ent.same_as.length
        ? h("p", { class: "aliases" }, h("span", { class: "muted" }, "same as "),
          ent.same_as.map((s, i) => [i ? ", " : "", h("a", { href: s, rel: "noopener noreferrer" }, s)]))
        : null);
    const claims = data.claims || [];
    const total = String(data.page ? data.page.total : claims.length);
    const tabs = h("nav", { class: "tabs", "aria-label": "Entity views" },
      h("a", { href: `#/entity/${slug}`, "aria-current": tab !== "timeline" ? "page" : null },
        "Status & claims", tab !== "timeline" ? h("span", { class: "count" }, total) : null),
      h("a", { href: `#/entity/${slug}/timeline`, "aria-current": tab === "timeline" ? "page" : null },
        "Timeline", tab === "timeline" ? h("span", { class: "count" }, total) : null));
    if (tab === "timeline") {
      const list = timelineList(claims, ent.iri);
      render(head, timeBanner(), tabs, window.geokb.chart ? window.geokb.chart(slug, ent) : null, list, moreButton(path, data.page, list, (more) => timelineItems(more, ent.iri, list)));
    } else {
      const list = claims.length
        ? h("div", { class: "claim-list" }, claims.map((c) => claimCard(c, { current: ent.iri })))
        : h("p", { class: "empty" }, "No claim about this entity is known at this point in time.");
      const page = data.page || {};
      render(head, timeBanner(), statusPanel(data),
        voicesPanel("Said by it", data.said, page.said_total),
        voicesPanel("Passed on by it", data.passed_on, page.passed_on_total), tabs, list,
        moreButton(path, data.page, list, (more) => more.map((c) => claimCard(c, { current: ent.iri }))));
    }
  }

  /**
   * "Show more": fetches the next page of a paged answer (its page.next holds the query
   * parameters, as_of pinned to the first page's log position) and appends it to `list`.
   */
  function moreButton(path, page, list, itemsOf) {
    if (!page || !page.next) return null;
    let next = page.next;
    const label = () => `Show more claims (${next.offset} of ${page.total} shown)`;
    const status = h("p", { class: "muted small", role: "status" });
    const button = h("button", { type: "button", class: "btn btn-quiet more" }, label());
    button.addEventListener("click", async () => {
      button.disabled = true;
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(next)) if (value !== null && value !== undefined) params.set(key, String(value));
      try {
        const more = await apiJson(path, params);
        append(list, itemsOf(more.claims || []));
        next = more.page && more.page.next;
        status.textContent = "";
        if (next) {
          button.textContent = label();
          button.disabled = false;
        } else {
          button.remove();
        }
      } catch (e) {
        status.textContent = `Could not load more claims: ${e.message}`;
        button.disabled = false;
      }
    });
    return h("div", { class: "more-claims" }, button, status);
  }

  /** How a claim stands at the answer's world time: holds, last reported (may still hold). */
  function holdingBadge(v) {
    const rt = v.reported_time;
    if (v.holding === "last_reported") {
      const when = rt ? ` ${rt.value}` : "";
      return h("span", { class: "badge holding holding-last", title: "No end was reported: it may still hold, and is not presented as fact" }, `last reported${when}`);
    }
    if (v.holding === "holds") return h("span", { class: "badge holding holding-holds" }, "holds");
    return null;
  }

  function speakerWords(sp) {
    if (sp.iri) return sp.label;
    if (sp.spokesperson_for) return `spokesperson, ${sp.spokesperson_for.label}`;
    return `${sp.anonymous}, unnamed`;
  }

  /** One claim of a conflict's side: who said it, where, when, on what basis, how graded. */
  function sideClaim(c) {
    const who = (c.speakers || []).map(speakerWords).join("; ");
    const src = c.source || {};
    const outlet = src.publisher ? src.publisher.label : src.title;
    const g = c.grades || {};
    const grades = g.reliability || g.credibility
      ? `graded ${g.reliability || "?"}${g.credibility || "?"} (${g.from})` : "not graded";
    return h("li", { class: "side-claim", "data-claim": c.id },
      h("p", { class: "side-who" }, who || outlet || "the source",
        outlet && who ? h("span", { class: "muted" }, ` via ${outlet}`) : null),
      h("p", { class: "badges" }, modalityBadge(c.modality),
        c.speech_act ? h("span", { class: "badge speech-act" }, c.speech_act) : null,
        holdingBadge(c)),
      h("p", { class: "small muted" },
        c.reported_time ? `reported ${c.reported_time.value} (${c.reported_time.from}); ` : "no reported time; ",
        c.basis && c.basis.length ? `basis: ${c.basis.join(", ")}; ` : "",
        grades),
      h("a", { href: routeOf(c.claim) || "#/query", class: "small" }, "evidence →"));
  }

  /** A conflict: both (or all) sides side by side, with their evidence. */
  function conflictView(c) {
    return h("div", { class: "conflict", "data-conflict": c.conflict },
      h("p", { class: "conflict-line" }, c.line),
      h("div", { class: "conflict-sides" }, c.sides.map((side) =>
        h("section", { class: `conflict-side${side.negated ? " negated" : ""}` },
          h("h3", {}, side.negated ? h("span", { class: "not" }, "not ") : null,
            statusBadge({ iri: side.value.iri, label: side.value.label || side.label })),
          h("ul", { class: "side-claims" }, side.claims.map(sideClaim))))));
  }

  function statusPanel(data) {
    const values = data.status || [];
    const assessment = data.assessment || "unknown";
    const conflicts = (data.conflicts || []).filter((c) => c.property && c.property.iri === `${PREFIXES.gk}status`);
    const undated = data.undated || [];
    let body;
    if (assessment === "contested" && conflicts.length) {
      body = conflicts.map(conflictView);
    } else if (values.length) {
      body = h("ul", { class: "status-values" }, values.map((v) => h("li", {},
        v.negated ? h("span", { class: "not" }, "not") : null,
        statusBadge({ iri: v.value, label: v.label }), modalityBadge(v.modality), holdingBadge(v),
        h("a", { href: routeOf(v.claim) || "#/query", class: "small" }, "evidence →"))));
    } else {
      body = h("p", { class: "muted" }, "No status claim holds or was last reported at this time.");
    }
    return h("section", { class: `status-panel assessment-${assessment}`, "aria-labelledby": "status-title" },
      h("h2", { id: "status-title" }, "Status ",
        h("span", { class: `badge assessment assessment-${assessment}`, id: "assessment" }, assessment)),
      data.line ? h("p", { class: "status-line", id: "status-line" }, data.line) : null,
      body,
      undated.length
        ? h("p", { class: "undated small" }, h("span", { class: "muted" }, "Undated, never counted as holding: "),
          undated.map((c, i) => [i ? ", " : "", h("a", { href: routeOf(c) || "#/query" }, c.split("/").pop())]))
        : null);
  }

  /** What the entity said, or passed on (as a speaker's body, an outlet, a cited source). */
  function voicesPanel(title, items, total) {
    if (!items || !items.length) return null;
    return h("section", { class: "voices" },
      h("h2", {}, `${title} `, h("span", { class: "count" }, String(total || items.length))),
      h("div", { class: "claim-list" }, items.map((c) => h("div", { class: "voiced" },
        h("span", { class: "badge voiced-as" }, c.as), claimCard(c)))));
  }

  function timelineList(claims, current) {
    if (!claims.length) return h("p", { class: "empty" }, "No claim about this entity is known at this point in time.");
    const list = h("ol", { class: "timeline", "aria-label": "Claims in world-time order" });
    append(list, timelineItems(claims, current, list));
    return list;
  }

  /** Timeline items; a date is shown where it changes, also across pages of `list`. */
  function timelineItems(claims, current, list) {
    let lastKey = list.dataset.lastKey || null;
    const items = claims.map((c) => {
      const vt = c.valid_time || {};
      const d = vt.from || vt.until;
      const key = d ? `${d.value}|${d.precision}` : "unknown";
      const showDate = key !== lastKey;
      lastKey = key;
      return h("li", { class: `tl-item${showDate ? " tl-first" : ""}` },
        h("div", { class: "tl-date" }, showDate
          ? (d ? [h("span", { class: "tl-value" }, d.value), h("span", { class: "precision" }, d.precision)]
            : h("span", { class: "muted" }, "date not stated"))
          : null),
        h("div", { class: "tl-body" }, claimCard(c, { current })));
    });
    if (lastKey !== null) list.dataset.lastKey = lastKey;
    return items;
  }

  async function claimView(id) {
    const render = beginDetail("claim", "Loading claim…");
    let c;
    try {
      c = await apiJson(`/api/claims/${encodeURIComponent(id)}`, timeParams({ validAt: false }));
    } catch (e) {
      render(h("h1", {}, `claim:${id}`), timeBanner(), errorBox(e, "Could not load this claim"));
      return;
    }
    document.title = `claim:${c.id} — geokb`;
    const lc = c.lifecycle || {};
    const ended = lc.state && lc.state !== "live"
      ? h("div", { class: `lifecycle-banner state-${lc.state}`, role: "note" },
        h("strong", {}, lc.state === "retracted" ? "Retracted" : "Superseded"),
        lc.state === "retracted"
          ? ` at log position ${lc.retracted.position}: ${lc.retracted.reason || "no reason given"}`
          : [` at log position ${lc.superseded.position} by `, iriLink(lc.superseded.by), `: ${lc.superseded.reason || ""}`])
      : null;
    const ev = c.evidence;
    const facts = h("dl", { class: "facts" },
      h("div", {}, h("dt", {}, "modality"), h("dd", {}, modalityBadge(c.modality), " ",
        h("span", { class: "muted" }, MODALITY_HELP[c.modality] || ""))),
      h("div", {}, h("dt", {}, "valid time"), h("dd", {}, validTime(c.valid_time))),
      h("div", {}, h("dt", {}, "attribution"), h("dd", {}, attributionChain(c, true))),
      h("div", {}, h("dt", {}, "evidence"), h("dd", {},
        h("blockquote", { class: "quote" }, ev.quote),
        h("p", { class: "small muted" }, `code points ${ev.start}–${ev.end} of the source text`,
          h("br"), "source SHA-256 ", h("code", { class: "hash", title: ev.sha256 }, `${String(ev.sha256).slice(0, 12)}…`)))),
      c.confidence !== null && c.confidence !== undefined
        ? h("div", {}, h("dt", {}, "confidence"), h("dd", {}, String(c.confidence))) : null,
      c.note ? h("div", {}, h("dt", {}, "note"), h("dd", { class: "note" }, c.note)) : null,
      h("div", {}, h("dt", {}, "lifecycle"), h("dd", {}, lifecycleList(lc))),
      h("div", {}, h("dt", {}, "claim IRI"), h("dd", {}, h("code", { class: "iri-full" }, c.claim))));

    const pane = h("section", { class: "source-pane", "aria-labelledby": "source-title" },
      h("div", { class: "pane-head" },
        h("h2", { id: "source-title" }, "Evidence in the source"),
        h("p", { class: "source-name" }, iriLink(c.source.iri, c.source.title || compact(c.source.iri), "term"))),
      h("p", { class: "loading" }, "Loading source text…"));

    const ok = render(
      h("nav", { class: "crumbs", "aria-label": "Breadcrumb" },
        h("a", { href: "#/query" }, "Query"), " / ",
        c.statement.subject.iri ? iriLink(c.statement.subject.iri, c.statement.subject.label, "crumb") : null,
        " / ", h("span", {}, `claim:${c.id}`)),
      h("header", { class: "claim-head" },
        h("p", { class: "kicker" }, "Claim ", h("span", { class: "badges" }, modalityBadge(c.modality), stateBadge(lc.state))),
        h("h1", { class: "claim-title" }, statement(c.statement))),
      timeBanner(), ended,
      h("div", { class: "claim-layout" }, h("div", { class: "claim-facts" }, facts), pane));
    if (!ok) return;
    const seq = renderSeq;
    await fillSourcePane(pane, c, seq);
  }

  async function fillSourcePane(pane, c, seq) {
    const slug = sourceSlug(c.source.iri);
    const loading = pane.querySelector(".loading");
    const done = (...nodes) => {
      if (seq !== renderSeq) return;
      if (loading) loading.remove();
      append(pane, nodes);
    };
    if (!slug) return done(h("p", { class: "muted" }, "This source has no page here."));
    let src;
    try {
      src = await apiJson(`/api/sources/${encodeURIComponent(slug)}`);
    } catch (e) {
      return done(errorBox(e, "Could not load the source"));
    }
    if (seq !== renderSeq) return;
    if (typeof src.text !== "string") {
      return done(h("p", { class: "warning" }, "The text of this source is not stored on this server; the quote above is all the evidence shown."));
    }
    const ev = c.evidence;
    const rendered = sourceText(src.text, src.spans || [], { id: c.id, start: ev.start, end: ev.end });
    const matches = rendered.slice(ev.start, ev.end) === ev.quote;
    const shaNote = src.sha256 && c.source.sha256 && src.sha256 !== c.source.sha256
      ? h("p", { class: "warning", role: "alert" }, "The stored text's SHA-256 differs from the one the claim cites.") : null;
    const head = pane.querySelector(".pane-head");
    if (head && seq === renderSeq) {
      head.appendChild(h("div", { class: "pane-tools" },
        h("span", { class: "legend small" }, h("mark", {}, "this claim"), " ", h("span", { class: "span depth-1" }, "other claims")),
        h("button", { type: "button", class: "btn btn-quiet small", onclick: () => scrollToMark(pane, rendered.mark) }, "Jump to evidence")));
    }
    done(
      matches ? null : h("p", { class: "warning", role: "alert" },
        `The stored text does not hold the quote at code points ${ev.start}–${ev.end}; the highlighted stretch may be wrong.`),
      shaNote,
      rendered.body);
    scrollToMark(pane, rendered.mark);
  }

  async function sourceView(slug, passage) {
    const render = beginDetail("source", "Loading source…");
    let src;
    try {
      src = await apiJson(`/api/sources/${encodeURIComponent(slug)}`);
    } catch (e) {
      render(h("h1", {}, `source:${slug}`), errorBox(e, "Could not load this source"));
      return;
    }
    document.title = `${src.title || slug} — geokb`;
    const spans = src.spans || [];
    const text = typeof src.text === "string"
      ? sourceText(src.text, spans, passage || null)
      : null;
    const list = h("ol", { class: "span-list" }, spans.map((s) => h("li", { class: s.live === false ? "ended" : "" },
      h("a", { href: `#/claim/${s.id}` }, `“${s.quote}”`), " ", modalityBadge(s.modality),
      s.live === false ? h("span", { class: "badge state state-retracted" }, "ended") : null,
      h("span", { class: "muted small" }, ` ${s.start}–${s.end}`))));
    render(
      h("header", { class: "entity-head" },
        h("p", { class: "kicker" }, h("span", { class: "chip" }, "Source")),
        h("h1", {}, src.title || slug),
        h("p", { class: "iri-line" }, h("code", { title: src.iri }, compact(src.iri))),
        src.description ? h("p", { class: "description" }, src.description) : null),
      sourceMeta(src),
      h("div", { class: "claim-layout source-layout" },
        h("section", { class: "source-pane", "aria-label": "Source text" },
          h("div", { class: "pane-head" }, h("h2", {}, "Text"),
            h("span", { class: "legend small" }, h("span", { class: "span depth-1" }, "cited by a claim"),
              " ", h("span", { class: "span depth-3" }, "cited by several"))),
          text ? text.body : h("p", { class: "warning" }, "The text of this source is not stored on this server.")),
        h("section", { class: "claim-facts", "aria-labelledby": "spans-title" },
          h("h2", { id: "spans-title" }, `Claims citing this source (${spans.length})`), list)));
    if (text && text.mark) scrollToMark(detail().querySelector(".source-pane"), text.mark);
  }

  // ---------------------------------------------------------------- SPARQL
  let lastQuery = null;
  let querySeq = 0;

  /** The query form (SELECT, ASK, CONSTRUCT, DESCRIBE) after the prologue, ignoring
   *  comments, strings and IRIs. Only picks the Accept header; the response's
   *  content type decides how the answer is shown. */
  function queryForm(q) {
    let out = "";
    for (let i = 0; i < q.length; i++) {
      const ch = q[i];
      if (ch === "#") {
        while (i < q.length && q[i] !== "\n") i++;
        out += " ";
      } else if (ch === '"' || ch === "'") {
        const triple = q.startsWith(ch.repeat(3), i);
        const end = triple ? ch.repeat(3) : ch;
        i += end.length;
        while (i < q.length && !q.startsWith(end, i)) i += q[i] === "\\" ? 2 : 1;
        i += end.length - 1;
        out += " ";
      } else if (ch === "<") {
        const m = /^<[^<>"{}|^`\\\s]*>/.exec(q.slice(i, i + 2048));
        if (m) { i += m[0].length - 1; out += " "; } else out += ch;
      } else {
        out += ch;
      }
    }
    const m = /\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b/i.exec(out);
    return m ? m[1].toUpperCase() : "SELECT";
  }

  function termCell(t) {
    if (!t) return h("span", { class: "unbound", title: "unbound" }, "");
    switch (t.type) {
      case "uri":
        if (t.value.startsWith(PREFIXES.modality)) return h("span", { title: t.value }, modalityBadge(t.value));
        if (t.value.startsWith(PREFIXES.status)) return h("span", { title: t.value }, statusBadge({ iri: t.value, label: localName(t.value) }));
        return iriLink(t.value, labels.get(t.value));
      case "bnode": return h("span", { class: "bnode" }, `_:${t.value}`);
      case "triple": {
        const v = t.value || {};
        return h("span", { class: "quoted-triple" }, "<< ", termCell(v.subject), " ", termCell(v.predicate), " ", termCell(v.object), " >>");
      }
      default: {
        const dt = t.datatype && t.datatype !== PREFIXES.xsd + "string" ? compact(t.datatype) : null;
        const lang = t["xml:lang"];
        return h("span", { class: "lit" }, t.value,
          lang ? h("span", { class: "lang" }, `@${lang}`) : null,
          dt ? h("span", { class: "dt", title: t.datatype }, dt) : null);
      }
    }
  }

  /** Labels of entities and titles of sources, to show in results instead of slugs. */
  const labels = new Map();
  let labelsLoaded = null;
  function loadLabels() {
    if (!labelsLoaded) {
      labelsLoaded = Promise.all([apiJson("/api/entities"), apiJson("/api/sources")])
        .then(([ents, srcs]) => {
          for (const e of ents.entities || []) labels.set(e.iri, e.label);
          for (const s of srcs.sources || []) if (s.title) labels.set(s.iri, s.title);
        })
        .catch(() => { labelsLoaded = null; });
    }
    return labelsLoaded;
  }

  function resultsTable(json) {
    const vars = (json.head && json.head.vars) || [];
    const rows = (json.results && json.results.bindings) || [];
    const shown = rows.slice(0, MAX_ROWS);
    const table = h("table", { id: "results-table", class: "results" },
      h("caption", { class: "visually-hidden" }, "Query results"),
      h("thead", {}, h("tr", {}, vars.map((v) => h("th", { scope: "col" }, `?${v}`)))),
      h("tbody", {}, shown.map((b) => h("tr", {},
        vars.map((v, j) => h(j ? "td" : "th", {
          scope: j ? null : "row",
          class: b[v] && b[v].type === "literal" && b[v].value.length > 40 ? "wide" : null,
        }, termCell(b[v])))))));
    return {
      count: rows.length,
      node: h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Query results (scrolls sideways when wide)" },
        rows.length ? table : h("p", { class: "empty" }, "No results."),
        rows.length > MAX_ROWS ? h("p", { class: "muted small" }, `Showing the first ${MAX_ROWS} of ${rows.length} rows.`) : null),
    };
  }

  /** Turtle / N-Triples text with geokb IRIs and prefixed names turned into links. */
  function linkedRdf(text) {
    const pre = h("pre", { class: "rdf-text", id: "results-rdf" });
    const re = new RegExp(`<(https?://[^<>\\s"]*)>|\\b((?:id|claim|source):[a-z0-9][a-z0-9-]*)`, "g");
    let last = 0;
    let m;
    while ((m = re.exec(text)) !== null) {
      const iri = m[1] || PREFIXES[m[2].split(":")[0]] + m[2].split(":")[1];
      const r = routeOf(iri);
      if (!r) continue;
      pre.appendChild(document.createTextNode(text.slice(last, m.index)));
      pre.appendChild(h("a", { href: r, title: iri }, m[0]));
      last = m.index + m[0].length;
    }
    pre.appendChild(document.createTextNode(text.slice(last)));
    return pre;
  }

  async function runQuery(text) {
    const query = text !== undefined ? text : $("sparql").value;
    const out = $("query-output");
    const meta = $("query-meta");
    if (!query.trim()) {
      clear(out).appendChild(h("p", { class: "muted" }, "Write a query or pick an example."));
      return;
    }
    lastQuery = query;
    try { localStorage.setItem("geokb.query", query); } catch { /* private mode */ }
    const seq = ++querySeq;
    const form = queryForm(query);
    // The guess only orders the preferences: the server negotiates on the result it gets,
    // and the response's Content-Type decides how it is shown.
    const accept = form === "CONSTRUCT" || form === "DESCRIBE"
      ? "text/turtle, application/sparql-results+json;q=0.5"
      : "application/sparql-results+json, text/turtle;q=0.5";
    const params = timeParams();
    let init = {};
    if (query.length > LONG_QUERY) {
      init = { method: "POST", body: new URLSearchParams({ query }),
        headers: { "Content-Type": "application/x-www-form-urlencoded" } };
    } else {
      params.set("query", query);
    }
    const run = $("run-query");
    run.disabled = true;
    run.textContent = "Running…";
    meta.textContent = "";
    out.setAttribute("aria-busy", "true");
    await loadLabels();
    const t0 = performance.now();
    try {
      const res = await api("/sparql", params, accept, init);
      const type = (res.headers.get("content-type") || "").toLowerCase();
      const body = await res.text();
      if (seq !== querySeq) return;
      const ms = Math.round(performance.now() - t0);
      const when = time.asOf || time.validAt ? ` · ${[time.asOf && `as of ${time.asOf}`, time.validAt && `valid at ${time.validAt}`].filter(Boolean).join(", ")}` : "";
      if (type.includes("json")) {
        const json = JSON.parse(body);
        if (typeof json.boolean === "boolean") {
          clear(out).appendChild(h("p", { class: `ask-answer ask-${json.boolean}`, id: "results-boolean" }, json.boolean ? "yes — true" : "no — false"));
          meta.textContent = `ASK · ${ms} ms${when}`;
        } else {
          const table = resultsTable(json);
          clear(out).appendChild(table.node);
          meta.textContent = `${table.count} row${table.count === 1 ? "" : "s"} · ${ms} ms${when}`;
        }
      } else {
        clear(out).appendChild(linkedRdf(body));
        meta.textContent = `${type.split(";")[0] || "text"} · ${ms} ms${when}`;
      }
    } catch (e) {
      if (seq !== querySeq) return;
      const box = errorBox(e, e.status === 400 ? "The server refused the query" : "The query failed");
      const at = /\bat (\d+):(\d+)\b/.exec(e.message || "");
      if (at) {
        box.appendChild(h("button", { type: "button", class: "btn btn-quiet small", onclick: () => showInEditor(+at[1], +at[2]) },
          `Show line ${at[1]}, column ${at[2]} in the editor`));
      }
      clear(out).appendChild(box);
      meta.textContent = "";
    } finally {
      if (seq === querySeq) {
        const top = out.getBoundingClientRect().top;
        if (top > window.innerHeight - 160) window.scrollBy({ top: top - window.innerHeight / 3 });
        run.disabled = false;
        run.textContent = "Run";
        out.removeAttribute("aria-busy");
      }
    }
  }

  /** Grow the editor to its content (up to 70% of the window). */
  function fitEditor() {
    const ta = $("sparql");
    ta.style.height = "auto";
    ta.style.height = `${Math.min(ta.scrollHeight + 4, Math.round(window.innerHeight * 0.7))}px`;
  }

  /** Put the caret at a 1-based line and column of the editor (from an error message). */
  function showInEditor(line, column) {
    const ta = $("sparql");
    const lines = ta.value.split("\n");
    let offset = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i++) offset += lines[i].length + 1;
    offset = Math.min(offset + Math.max(column - 1, 0), ta.value.length);
    ta.focus();
    ta.setSelectionRange(offset, Math.min(offset + 1, ta.value.length));
  }

  let EXAMPLES = [];

  async function setupEditor() {
    const list = $("example-list");
    try {
      EXAMPLES = await (await fetch("/static/examples.json")).json();
    } catch {
      list.appendChild(h("li", { class: "muted" }, "The examples could not be loaded."));
    }
    for (const ex of EXAMPLES) {
      list.appendChild(h("li", {}, h("button", {
        type: "button", class: "example", dataset: { example: ex.id }, title: ex.note,
        onclick: () => {
          $("sparql").value = ex.query;
          fitEditor();
          for (const b of list.querySelectorAll("button")) b.removeAttribute("aria-pressed");
          list.querySelector(`[data-example="${ex.id}"]`).setAttribute("aria-pressed", "true");
          $("sparql").focus();
          $("sparql").setSelectionRange(0, 0);
          $("sparql").scrollTop = 0;
        },
      }, h("span", { class: "example-title" }, ex.title), h("span", { class: "example-note" }, ex.note))));
    }
    let saved = null;
    try { saved = localStorage.getItem("geokb.query"); } catch { /* private mode */ }
    $("sparql").value = saved || (EXAMPLES[0] ? EXAMPLES[0].query : "");
    fitEditor();
    $("sparql").addEventListener("input", fitEditor);
    $("sparql").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        runQuery();
      }
    });
    $("run-query").addEventListener("click", () => runQuery());
  }

  // ---------------------------------------------------------------- search
  function setupSearch() {
    const input = $("search-input");
    const box = $("search-results");
    let timer = null;
    let seq = 0;
    const hide = () => { box.hidden = true; input.setAttribute("aria-expanded", "false"); };
    const links = () => [...box.querySelectorAll("a")];

    async function search() {
      const q = input.value.trim();
      if (!q) { hide(); return; }
      const mine = ++seq;
      let body;
      try {
        body = await apiJson("/api/search", new URLSearchParams({ q }));
      } catch (e) {
        if (mine !== seq) return;
        clear(box).appendChild(h("li", { class: "search-error" }, e.message));
        box.hidden = false;
        return;
      }
      if (mine !== seq) return;
      const matches = (body.entities || []).slice(0, 8);
      const passages = (body.sources || []).reduce((n, s) => n + s.count, 0);
      clear(box);
      if (!matches.length && !passages) box.appendChild(h("li", { class: "muted" }, `Nothing is named “${q}”, and no source text holds it.`));
      for (const m of matches) {
        const r = routeOf(m.iri);
        box.appendChild(h("li", {}, h("a", { href: r || "#/", onclick: hide },
          h("span", { class: "match-label" }, m.label || compact(m.iri)),
          h("span", { class: "match-types" }, (m.types || []).map(typeName).join(", ")),
          m.description && !m.matched ? h("span", { class: "match-aliases" }, "named in its description")
            : m.aliases && m.aliases.length ? h("span", { class: "match-aliases" }, `also ${m.aliases.join(", ")}`) : null)));
      }
      if (passages) {
        box.appendChild(h("li", {}, h("a", { href: `#/search/${encodeURIComponent(q)}`, onclick: hide, class: "match-text" },
          h("span", { class: "match-label" }, `“${q}” in the sources`),
          h("span", { class: "match-types" }, `${passages} passage${passages === 1 ? "" : "s"} in ${body.sources.length} source${body.sources.length === 1 ? "" : "s"}`))));
      }
      box.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 200); });
    input.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" && links().length) { e.preventDefault(); links()[0].focus(); }
      if (e.key === "Escape") hide();
    });
    box.addEventListener("keydown", (e) => {
      const all = links();
      const i = all.indexOf(document.activeElement);
      if (e.key === "ArrowDown" && i < all.length - 1) { e.preventDefault(); all[i + 1].focus(); }
      if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? all[i - 1] : input).focus(); }
      if (e.key === "Escape") { hide(); input.focus(); }
    });
    $("search-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      clearTimeout(timer);
      await search();
      const first = links()[0];
      if (first) { location.hash = first.getAttribute("href"); hide(); }
    });
    document.addEventListener("click", (e) => { if (!$("search-form").contains(e.target)) hide(); });
  }

  // ---------------------------------------------------------------- routing
  function route() {
    const raw = (location.hash || "#/").slice(1).split("?")[0];
    let parts;
    try {
      parts = raw.split("/").filter(Boolean).map(decodeURIComponent);
    } catch {
      parts = [];
    }
    $("search-results").hidden = true;
    const [kind, slug, sub] = parts;
    if (kind === "query") return showQueryView();
    const view = views[kind || "home"];
    if (view) return view(parts.slice(1));
    if (!slug || !SLUG.test(slug)) return notFound(`“${raw}” is not a page of this site.`);
    if (kind === "entity" && (!sub || sub === "timeline")) return entityView(slug, sub);
    if (kind === "claim" && !sub) return claimView(slug);
    const span = /^(\d+)-(\d+)$/.exec(sub || "");
    if (kind === "source" && (!sub || span)) {
      return sourceView(slug, span ? { id: "search", title: "the passage found", start: Number(span[1]), end: Number(span[2]) } : null);
    }
    return notFound(`“${raw}” is not a page of this site.`);
  }

  /** Views other scripts add (desk.js: home, lists, search; chart.js: the chart). */
  const views = {};
  window.geokb = {
    h, append, clear, $, apiJson, routeOf, compact, typeName, localName, iriLink,
    claimCard, statusBadge, modalityBadge, holdingBadge, speakerWords, statusPanel,
    beginDetail, errorBox, timeParams, timeBanner, timelineItems, PREFIXES, SLUG, views,
  };

  function start() {
    setupEditor();
    setupSearch();
    $("time-form").addEventListener("submit", applyTime);
    $("time-reset").addEventListener("click", resetTime);
    window.addEventListener("hashchange", route);
    route();
    refreshHead();
    setInterval(() => { if (!document.hidden) refreshHead(); }, 30000);
  }

  // After DOMContentLoaded: the deferred desk.js and chart.js have registered their views.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
