// Patient timeline: SUVmax, total TLG and tumour volume over time, and the change between two
// studies. Plots are inline SVG (no chart library).
"use strict";
(function () {
  const NS = window.nenscope;
  const root = document.getElementById("timeline");
  const MEASURES = [
    { key: "suvmax", label: "SUVmax", unit: "g/mL", digits: 1 },
    { key: "tlg", label: "Total TLG", unit: "g", digits: 0 },
    { key: "volume_ml", label: "Tumour volume", unit: "mL", digits: 1 },
  ];
  const SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function plot(points, m) {
    const W = 400, H = 200, L = 52, R = 12, T = 24, B = 36;
    const data = points.filter((p) => p[m.key] !== null && p[m.key] !== undefined)
      .map((p) => ({ t: Date.parse(p.study_date), v: Number(p[m.key]), p }));
    const box = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", width: W, height: H,
      "aria-label": `${m.label} over time: ` + data.map((d) => `${d.p.study_date} ${NS.fmt(d.v, m.digits)} ${m.unit}`).join("; ") });
    box.append(svg("text", { x: L, y: 16, class: "plot-title" }, `${m.label} (${m.unit})`));
    if (!data.length) { box.append(svg("text", { x: L, y: H / 2 }, "no analysed study")); return box; }
    const t0 = Math.min(...data.map((d) => d.t)), t1 = Math.max(...data.map((d) => d.t));
    const vmax = Math.max(...data.map((d) => d.v)) * 1.1 || 1;
    const x = (t) => L + (t1 === t0 ? (W - L - R) / 2 : ((t - t0) / (t1 - t0)) * (W - L - R));
    const y = (v) => H - B - (v / vmax) * (H - T - B);
    box.append(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }));
    box.append(svg("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
    for (const f of [0, 0.5, 1]) {
      box.append(svg("text", { x: L - 6, y: y(vmax * f) + 4, "text-anchor": "end", class: "tick" }, NS.fmt(vmax * f, m.digits)));
    }
    box.append(svg("polyline", { points: data.map((d) => `${x(d.t)},${y(d.v)}`).join(" "), class: "line" }));
    for (const d of data) {
      box.append(svg("circle", { cx: x(d.t), cy: y(d.v), r: 4, class: "dot" }));
      box.append(svg("text", { x: x(d.t), y: H - B + 16, "text-anchor": "middle", class: "tick" }, d.p.study_date));
    }
    return box;
  }

  function change(a, b) {
    const body = document.getElementById("change-body");
    body.replaceChildren();
    if (!a || !b) return;
    for (const m of MEASURES) {
      const va = a[m.key], vb = b[m.key];
      const pct = va ? (100 * (vb - va)) / va : null;
      body.append(NS.el("tr", {},
        NS.el("th", { scope: "row", text: `${m.label} (${m.unit})` }),
        NS.el("td", { class: "num", text: NS.fmt(va, m.digits) }),
        NS.el("td", { class: "num", text: NS.fmt(vb, m.digits) }),
        NS.el("td", { class: "num", text: pct === null || va == null || vb == null ? "—" : `${pct >= 0 ? "+" : ""}${pct.toFixed(0)} %` })));
    }
  }

  async function load() {
    const pk = root.dataset.patient;
    let data;
    try {
      data = await NS.api(`/api/patients/${encodeURIComponent(pk)}/timeline`);
    } catch (e) {
      document.getElementById("timeline-error").textContent = "Could not load the timeline: " + e.message;
      return;
    }
    const points = data.points || [];
    const plots = document.getElementById("plots");
    plots.replaceChildren(...MEASURES.map((m) => plot(points, m)));
    const body = document.getElementById("timeline-body");
    body.replaceChildren();
    for (const p of points) {
      body.append(NS.el("tr", { "data-testid": "timeline-row" },
        NS.el("td", { text: p.study_date }),
        NS.el("td", { class: "num", text: p.lesions ?? "not analysed" }),
        ...MEASURES.map((m) => NS.el("td", { class: "num", text: NS.fmt(p[m.key], m.digits) })),
        NS.el("td", {}, NS.el("a", { href: `/studies/${p.study_id}`, text: "Open" }))));
    }
    const done = points.filter((p) => p.lesions !== undefined);
    const sa = document.getElementById("cmp-a"), sb = document.getElementById("cmp-b");
    for (const [sel, pick] of [[sa, 0], [sb, done.length - 1]]) {
      sel.replaceChildren(...done.map((p, i) => NS.el("option", { value: i, text: p.study_date, selected: i === pick })));
      sel.addEventListener("change", () => change(done[sa.value], done[sb.value]));
    }
    change(done[0], done[done.length - 1]);
  }

  document.addEventListener("DOMContentLoaded", load);
})();
