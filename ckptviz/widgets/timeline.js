// TimelineView: change heatmap (variables × steps), lines of one variable, offset histograms.
function render({ model, el }) {
  el.classList.add("ckv");
  const follow = h("input", { type: "checkbox", class: "ckv-follow", onchange: () => put(model, "follow", follow.checked) });
  const info = h("span", { class: "ckv-note" });
  const heat = h("div", { class: "ckv-timeheat" });
  const lines = h("div", { class: "ckv-lines" });
  const ridges = h("div", { class: "ckv-ridges" });
  el.append(statusBar(model), h("div", { class: "ckv-bar0" }, h("label", {}, follow, " follow the run"), info),
    h("div", { class: "ckv-main" }, h("div", { class: "ckv-pane" }, heat), h("div", { class: "ckv-side" }, lines, ridges)));

  function drawHeat() {
    const steps = model.get("steps"), vars = model.get("variables"), m = model.get("matrix");
    info.textContent = `${steps.length} checkpoints, steps ${steps[0] ?? "–"}…${steps[steps.length - 1] ?? "–"}; ${vars.length} most changed variables`;
    follow.checked = model.get("follow");
    const cw = Math.max(8, Math.min(40, 420 / Math.max(steps.length, 1))), ch = 14, left = 300;
    const top = Math.max(1e-12, ...m.flat().filter((x) => x != null));
    const svgEl = s("svg", { width: left + cw * steps.length + 10, height: ch * vars.length + 24 });
    steps.forEach((st, j) => svgEl.append(s("text", { x: left + j * cw + cw / 2, y: 10, "text-anchor": "middle", "font-size": 9, text: st })));
    vars.forEach((v, i) => {
      const g = s("g", { class: `ckv-trow${v === model.get("key") ? " ckv-sel" : ""}`, "data-key": v, onclick: () => put(model, "key", v), style: "cursor:pointer" });
      g.append(s("text", { x: left - 4, y: 14 + i * ch + 10, "text-anchor": "end", "font-size": 9, text: v.length > 52 ? "…" + v.slice(-51) : v }));
      m[i].forEach((x, j) => {
        const t = x == null ? 0 : Math.log10(1 + 9 * x / top);
        const c = Math.round(255 * (1 - t));
        g.append(s("rect", { x: left + j * cw, y: 14 + i * ch, width: cw - 1, height: ch - 1, fill: x == null ? "#eee" : `rgb(255,${c},${Math.round(c * 0.8)})` },
          s("title", { text: `${v} at step ${steps[j]}: relative change ${fmt(x)}` })));
      });
      if (v === model.get("key")) g.append(s("rect", { x: 0, y: 14 + i * ch, width: left + cw * steps.length, height: ch - 1, fill: "none", stroke: "#1565c0" }));
      svgEl.append(g);
    });
    heat.replaceChildren(svgEl);
  }
  function drawSeries() {
    const d = model.get("series");
    lines.replaceChildren(); ridges.replaceChildren();
    if (!d || !d.key) return;
    const W = 300, H = 140, steps = d.steps, L = d.lines;
    const vals = ["min", "max", "mean"].flatMap((k) => L[k]).filter((x) => x != null);
    const lo = Math.min(...vals), hi = Math.max(...vals), span = hi - lo || 1;
    const X = (j) => 30 + (j / Math.max(steps.length - 1, 1)) * (W - 40), Y = (v) => H - 14 - ((v - lo) / span) * (H - 28);
    const path = (k) => L[k].map((v, j) => (v == null ? "" : `${j ? "L" : "M"}${X(j)},${Y(v)}`)).join("");
    const band = L.mean.map((m, j) => `${X(j)},${Y(m + (L.std[j] || 0))}`).concat(L.mean.map((m, j) => `${X(j)},${Y(m - (L.std[j] || 0))}`).reverse()).join(" ");
    lines.append(h("div", { class: "ckv-key", text: d.key }), s("svg", { class: "ckv-line", width: W, height: H },
      s("polygon", { points: band, fill: "#4a7bd0", opacity: 0.2 }),
      s("path", { d: path("mean"), stroke: "#1a4fa0", fill: "none", "stroke-width": 1.6 }),
      s("path", { d: path("min"), stroke: "#999", fill: "none", "stroke-dasharray": "3 2" }),
      s("path", { d: path("max"), stroke: "#999", fill: "none", "stroke-dasharray": "3 2" }),
      s("text", { x: 2, y: 10, "font-size": 9, text: fmt(hi) }), s("text", { x: 2, y: H - 16, "font-size": 9, text: fmt(lo) }),
      s("text", { x: 30, y: H - 2, "font-size": 9, text: `step ${steps[0]}` }), s("text", { x: W - 10, y: H - 2, "font-size": 9, "text-anchor": "end", text: `step ${steps[steps.length - 1]}` })),
      h("div", { class: "ckv-note", text: "mean ± std, min and max (dashed)" }));
    const hs = d.histograms, RH = 26, n = d.edges.length - 1;
    const top = Math.max(1, ...hs.flatMap((x) => x.counts));
    const r = s("svg", { class: "ckv-ridge", width: W, height: RH * hs.length + 30 });
    hs.forEach((x, i) => {
      const base = 20 + RH * (i + 1);
      const pts = x.counts.map((c, b) => `${30 + (b / n) * (W - 40)},${base - (c / top) * RH * 1.6}`);
      r.append(s("polygon", { points: `30,${base} ${pts.join(" ")} ${W - 10},${base}`, fill: "#f0a35e", stroke: "#b35c00", opacity: 0.8 }),
        s("text", { x: 0, y: base, "font-size": 9, text: x.step }));
    });
    ridges.append(r, h("div", { class: "ckv-note", text: `histograms by step, ${fmt(d.edges[0])} … ${fmt(d.edges[n])}` }));
  }
  for (const n of ["steps", "variables", "matrix", "key", "follow"]) model.on(`change:${n}`, drawHeat);
  model.on("change:series", drawSeries);
  // polling only while the widget is on screen (a hidden tab, a scrolled-away cell)
  const seen = new IntersectionObserver((entries) => put(model, "visible", entries.some((e) => e.isIntersecting)));
  seen.observe(el);
  drawHeat(); drawSeries();
  return () => { seen.disconnect(); put(model, "visible", false); };
}
export default { render };
