/* geokb web page: an entity's timeline chart, our own SVG.
 *
 * Each dated claim is a row: a bar over its valid time (an arrow when no end is stated),
 * a diamond on the day the source reported it, the bar linking to the claim. Where two
 * sides dispute a value (a conflict), the contested period is shaded behind the rows.
 * A slider under the chart sets "As known at" to a log position and re-runs the view.
 * Drawn at the width of its box, so it never scrolls sideways; redrawn on resize.
 */
"use strict";

(() => {
  const g = window.geokb;
  const { h, apiJson, timeParams } = g;
  const NS = "http://www.w3.org/2000/svg";
  const ROW = 40;
  const TOP = 30;
  const PAD = 12;

  /** An SVG element; children as in h(): strings become text nodes. */
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined && v !== false) el.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /** "2025", "2025-09" or "2025-09-15" → [first ms, ms after the last day]. */
  function span(value) {
    const [y, m, d] = String(value).split("-").map(Number);
    if (!m) return [Date.UTC(y, 0, 1), Date.UTC(y + 1, 0, 1)];
    if (!d) return [Date.UTC(y, m - 1, 1), Date.UTC(y, m, 1)];
    return [Date.UTC(y, m - 1, d), Date.UTC(y, m - 1, d + 1)];
  }

  const DAY = 86400000;
  const iso = (ms) => new Date(ms).toISOString().slice(0, 10);

  function statementText(c) {
    const st = c.statement || {};
    const term = (t) => (t ? t.label || t.value || t.iri || "" : "");
    return `${term(st.predicate)} ${c.modality === "denied" ? "(denied) " : ""}${term(st.object)}`.trim();
  }

  /** The rows and the time range the chart covers. */
  function layout(claims, conflicts, now) {
    const rows = [];
    for (const c of claims) {
      const vt = c.valid_time || {};
      if (!vt.from && !vt.until && !c.reported_time) continue; // nothing to place it by
      const from = vt.from ? span(vt.from.value)[0] : null;
      const until = vt.until ? span(vt.until.value)[1] : null;
      const reported = c.reported_time ? span(c.reported_time.value)[0] : null;
      rows.push({ c, from, until, reported });
    }
    const shaded = conflicts.filter((k) => k.contested_since).map((k) => ({ k, from: span(k.contested_since)[0] }));
    const times = [now];
    for (const r of rows) times.push(...[r.from, r.until, r.reported].filter((t) => t !== null));
    for (const x of shaded) times.push(x.from);
    let lo = Math.min(...times);
    let hi = Math.max(...times);
    const margin = Math.max((hi - lo) * 0.05, 15 * DAY);
    lo -= margin;
    hi += margin;
    return { rows, shaded, lo, hi };
  }

  function ticks(lo, hi) {
    const years = (hi - lo) / (365 * DAY);
    const out = [];
    if (years > 2) {
      const step = Math.ceil(years / 8);
      for (let y = new Date(lo).getUTCFullYear() + 1; Date.UTC(y, 0, 1) < hi; y += step) out.push([Date.UTC(y, 0, 1), String(y)]);
    } else {
      const d = new Date(lo);
      const step = Math.max(1, Math.ceil((years * 12) / 8));
      for (let y = d.getUTCFullYear(), m = d.getUTCMonth() + 1; Date.UTC(y, m, 1) < hi; m += step) {
        const t = Date.UTC(y, m, 1);
        out.push([t, iso(t).slice(0, 7)]);
      }
    }
    return out;
  }

  function draw(box, data) {
    const { claims, conflicts, now, slug } = data;
    const { rows, shaded, lo, hi } = layout(claims, conflicts, now);
    const width = Math.max(280, box.clientWidth || 600);
    const height = TOP + rows.length * ROW + PAD;
    const x = (t) => PAD + ((t - lo) / (hi - lo)) * (width - 2 * PAD);
    const fits = Math.floor((width - 2 * PAD) / 7); // characters of a label at 12 px
    const svg = s("svg", { class: "tl-chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "group",
      "aria-labelledby": "chart-title chart-desc" },
    s("title", { id: "chart-title" }, `Timeline of ${data.label}`),
    s("desc", { id: "chart-desc" }, `${rows.length} claims placed on their valid time (bars) and on the day they were reported (diamonds); shaded: the period their values are contested.`));
    for (const { k, from } of shaded) {
      const sides = (k.sides || []).map((side) => side.label).join(" vs ");
      svg.appendChild(s("rect", { class: "tl-contested", x: x(from), y: TOP - 8, width: Math.max(2, x(now) - x(from)), height: height - TOP + 8 - PAD / 2 },
        s("title", {}, `contested since ${k.contested_since}: ${sides}`)));
    }
    for (const [t, label] of ticks(lo, hi)) {
      svg.appendChild(s("line", { class: "tl-tick", x1: x(t), x2: x(t), y1: TOP - 12, y2: height - PAD / 2 }));
      svg.appendChild(s("text", { class: "tl-tick-label", x: x(t) + 3, y: 12 }, label));
    }
    svg.appendChild(s("line", { class: "tl-now", x1: x(now), x2: x(now), y1: TOP - 12, y2: height },
      s("title", {}, `the time shown: ${iso(now)}`)));
    rows.forEach((r, i) => {
      const y = TOP + i * ROW;
      const dated = r.from !== null || r.until !== null;
      const start = r.from !== null ? x(r.from) : dated ? PAD : x(r.reported);
      const end = r.until !== null ? x(r.until) : x(hi) - 2;
      const c = r.c;
      const vt = c.valid_time;
      const when = !dated ? "valid time not stated"
        : `valid ${vt.from ? `from ${vt.from.value}` : "(start not stated)"}${vt.until ? ` until ${vt.until.value}` : ", no end stated"}`;
      const reported = c.reported_time ? `; reported ${c.reported_time.value}` : "";
      const text = statementText(c);
      const link = s("a", { href: `#/claim/${c.id}`, class: `tl-row modality-${c.modality}`, "data-claim": c.id,
        "aria-label": `${text}, ${when}${reported}` },
      s("title", {}, `${text} — ${when}${reported} (claim:${c.id})`),
      s("text", { class: "tl-label", x: fits > text.length && start + 7 * text.length < width ? start : PAD, y: y + 11 },
        text.length > fits ? `${text.slice(0, fits - 1)}…` : text),
      dated ? s("rect", { class: `tl-bar${r.until === null ? " open" : ""}`, x: start, y: y + 16, width: Math.max(4, end - start), height: 10, rx: 3 }) : null,
      dated && r.until === null ? s("path", { class: "tl-open", d: `M${end} ${y + 13} l6 8 l-6 8 z` }) : null,
      r.reported !== null ? s("path", { class: "tl-reported", d: `M${x(r.reported)} ${y + 14} l6 7 l-6 7 l-6 -7 z` }) : null);
      svg.appendChild(link);
    });
    return svg;
  }

  function slider(head, asOf) {
    const id = "chart-as-of";
    const value = /^\d+$/.test(asOf) ? Number(asOf) : head;
    const out = h("output", { for: id, class: "small" }, value === head ? `log head (${head})` : `position ${value}`);
    const input = h("input", { type: "range", id, min: 1, max: head, value, step: 1,
      oninput: () => { out.textContent = Number(input.value) === head ? `log head (${head})` : `position ${input.value}`; },
      onchange: () => {
        g.$("as-of").value = Number(input.value) === head ? "" : input.value;
        g.$("time-form").requestSubmit();
      } });
    return h("p", { class: "chart-slider" }, h("label", { for: id }, "As known at "), input, " ", out);
  }

  /** The chart's box: filled when the claims, conflicts and log head have come. */
  g.chart = (slug, entity) => {
    const box = h("figure", { class: "chart-box", id: "timeline-chart" },
      h("p", { class: "loading" }, "Drawing the timeline…"));
    const params = timeParams();
    const limit = new URLSearchParams(params);
    limit.set("limit", "1000");
    const conflictParams = new URLSearchParams(params);
    conflictParams.set("entity", slug);
    Promise.all([
      apiJson(`/api/entities/${encodeURIComponent(slug)}/timeline`, limit),
      apiJson("/api/conflicts", conflictParams),
      apiJson("/api/health"),
    ]).then(([tl, cf, health]) => {
      const at = tl.at && tl.at.from ? span(tl.at.from)[0] : Date.now();
      const data = { claims: tl.claims || [], conflicts: (cf.conflicts || []).filter((k) => k.on && k.on.iri === entity.iri),
        now: at, slug, label: entity.label };
      const undated = data.claims.filter((c) => !c.reported_time && (!c.valid_time || (!c.valid_time.from && !c.valid_time.until))).length;
      const render = () => {
        g.clear(box);
        g.append(box, [draw(box, data),
          h("figcaption", { class: "small muted" },
            h("span", { class: "key key-bar" }), " valid time ", h("span", { class: "key key-reported" }), " reported ",
            h("span", { class: "key key-contested" }), " contested ", h("span", { class: "key key-now" }), ` ${iso(at)}`,
            undated ? ` · ${undated} claim${undated === 1 ? "" : "s"} with no time at all listed below, not placed` : ""),
          slider(health.position, g.$("as-of").value.trim())]);
      };
      render();
      let width = box.clientWidth;
      const watch = new ResizeObserver(() => {
        if (!box.isConnected) { watch.disconnect(); return; }
        if (Math.abs(box.clientWidth - width) > 8) { width = box.clientWidth; render(); }
      });
      watch.observe(box);
    }).catch((e) => { g.clear(box).appendChild(g.errorBox(e, "Could not draw the timeline")); });
    return box;
  };
})();
