// DiffView: compare with a second checkpoint; table by status and change, roll-up, per-key detail.
const DROW = 20;
function render({ model, el }) {
  el.classList.add("ckv");
  const other = h("input", { class: "ckv-other", placeholder: "checkpoint to compare with", value: model.get("other"),
    onchange: () => put(model, "other", other.value) });
  const go = h("button", { class: "ckv-compare", text: "compare", onclick: () => { put(model, "other", other.value); send(model, { do: "compare" }); } });
  const pick = (name, values) => h("select", { class: `ckv-${name}`, onchange: (e) => put(model, name, e.target.value) },
    ...values.map((v) => h("option", { value: v, text: v, selected: v === model.get(name) })));
  const counts = h("span", { class: "ckv-counts" });
  const body = h("tbody");
  const spacer = h("div");
  const table = h("table", { class: "ckv-table" }, h("thead", {}, h("tr", {},
    ...["key", "status", "dtype", "shape", "max |Δ|", "rel. change", "changed"].map((t) => h("th", { text: t })))), body);
  const scroll = h("div", { class: "ckv-scroll" }, spacer, table);
  table.style.position = "absolute"; table.style.top = "0";
  const rollups = h("div", { class: "ckv-rollups" });
  const detail = h("div", { class: "ckv-detail" });
  el.append(statusBar(model), h("div", { class: "ckv-bar0" }, other, go, "show ", pick("show", ["changed", "added", "removed", "unchanged", "all"]),
    " sort by ", pick("sort", ["change", "size", "key"]), counts),
    h("div", { class: "ckv-main" }, h("div", { class: "ckv-pane" }, scroll), h("div", { class: "ckv-side" }, detail, rollups)));

  const pct = (x) => (x == null ? "–" : `${+(100 * x).toPrecision(3)}%`);
  const both = (a, b) => (a === b || b == null ? String(a ?? "–") : a == null ? String(b) : `${a} → ${b}`);
  function drawRows() {
    spacer.style.height = `${(model.get("matched") + 1) * DROW}px`;
    table.style.transform = `translateY(${model.get("offset") * DROW}px)`;
    body.replaceChildren(...model.get("rows").map(([key, status, da, db, sa, sb, maxd, rel, frac, name]) =>
      h("tr", { class: key === model.get("key") ? "ckv-sel" : null, "data-key": key, "data-status": status, onclick: () => put(model, "key", key) },
        h("td", { text: name || key, title: key }), h("td", { class: `ckv-${status}`, text: status }), h("td", { text: both(da, db) }),
        h("td", { text: both(sa && shapeText(sa), sb && shapeText(sb)) }), h("td", { text: fmt(maxd) }), h("td", { text: pct(rel) }), h("td", { text: pct(frac) }))));
    const c = model.get("counts");
    counts.textContent = Object.keys(c).length ? Object.entries(c).map(([k, v]) => `${v} ${k}`).join(", ") : "";
  }
  scroll.addEventListener("scroll", () => {
    const first = Math.floor(scroll.scrollTop / DROW), last = first + Math.ceil(scroll.clientHeight / DROW);
    const off = model.get("offset"), limit = model.get("limit");
    if (first < off || last > off + limit) put(model, "offset", Math.max(0, first - 20));
  });
  function drawRollups() {
    const r = model.get("rollups");
    rollups.replaceChildren(h("b", { text: "by subtree" }), h("table", { class: "ckv-stats" },
      ...r.map((x) => h("tr", {}, h("td", { text: x.path }), h("td", { class: `ckv-${x.status}`, text: x.status + (x.exploded ? " ⚠" : x.frozen ? " (frozen)" : "") }),
        h("td", { text: pct(x.relative_change) })))));
  }
  function drawDetail() {
    const d = model.get("detail");
    detail.replaceChildren();
    if (!d || !d.row) return;
    const t = h("table", { class: "ckv-stats" }, h("tr", {}, h("th"), h("th", { text: "other" }), h("th", { text: "this" }), h("th", { text: "this − other" })));
    for (const k of STATS) t.append(h("tr", {}, h("th", { text: k }), ...["a", "b", "delta"].map((s) => h("td", { class: `ckv-${s}-${k}`, text: fmt(d[s] && d[s][k]) }))));
    detail.append(h("div", { class: "ckv-key", text: d.row.name && d.row.name !== d.row.key ? `${d.row.name}  (${d.row.key})` : d.row.key }), t);
    if (d.delta && d.delta.histogram) detail.append(h("div", { class: "ckv-note", text: "histogram of this − other" }), histogram(d.delta.histogram));
  }
  for (const n of ["rows", "matched", "key", "counts"]) model.on(`change:${n}`, drawRows);
  model.on("change:rollups", drawRollups);
  model.on("change:detail", drawDetail);
  drawRows(); drawRollups(); drawDetail();
}
export default { render };
