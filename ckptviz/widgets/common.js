// ckptviz widgets: drawing helpers shared by the views (prepended to each view's ESM).
const SVGNS = "http://www.w3.org/2000/svg";
function el_(make, tag, attrs, kids) {
  const e = make(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of kids.flat()) if (c != null) e.append(c);
  return e;
}
const h = (tag, attrs, ...kids) => el_((t) => document.createElement(t), tag, attrs, kids);
const s = (tag, attrs, ...kids) => el_((t) => document.createElementNS(SVGNS, t), tag, attrs, kids);
const fmt = (x) =>
  x == null ? "–" : typeof x !== "number" ? String(x)
  : x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3) ? x.toExponential(3) : String(+x.toPrecision(5));
const shapeText = (shape) => (shape == null ? "" : shape.length ? `[${shape.join(", ")}]` : "scalar");
function send(model, message) { model.send(message); }
function put(model, name, value) { model.set(name, value); model.save_changes(); }

// Error line (red), status line with a progress bar and Cancel while work runs.
function statusBar(model) {
  const error = h("div", { class: "ckv-error", role: "alert" });
  const text = h("span");
  const meter = h("progress", { max: "1" });
  const cancel = h("button", { text: "Cancel", onclick: () => send(model, { do: "cancel" }) });
  const status = h("div", { class: "ckv-status" }, text, meter, cancel);
  const update = () => {
    error.textContent = model.get("error");
    error.style.display = model.get("error") ? "" : "none";
    text.textContent = model.get("status");
    const busy = model.get("busy");
    meter.style.display = cancel.style.display = busy ? "" : "none";
    if (model.get("progress") > 0) meter.value = model.get("progress"); else meter.removeAttribute("value");
    status.style.display = busy || model.get("status") ? "" : "none";
  };
  for (const n of ["error", "status", "busy", "progress"]) model.on(`change:${n}`, update);
  update();
  return h("div", {}, error, status);
}

function histogram(hist, width = 280, height = 90) {
  const { counts, edges } = hist;
  const top = Math.max(1, ...counts);
  const bw = width / counts.length;
  const bars = counts.map((c, i) =>
    s("rect", { x: i * bw, y: height - (c / top) * height, width: Math.max(bw - 1, 1), height: (c / top) * height,
      class: "ckv-bar" }, s("title", { text: `[${fmt(edges[i])}, ${fmt(edges[i + 1])}): ${c}` })));
  return s("svg", { class: "ckv-hist", width, height: height + 14, viewBox: `0 0 ${width} ${height + 14}` },
    ...bars,
    s("text", { x: 0, y: height + 12, text: fmt(edges[0]) }),
    s("text", { x: width, y: height + 12, "text-anchor": "end", text: fmt(edges[edges.length - 1]) }));
}

// Blue for negative, red for positive (white at zero) when the range spans zero; else white→blue.
function colourOf(v, lo, hi) {
  if (v == null) return [255, 0, 255];
  if (lo < 0 && hi > 0) {
    const t = v < 0 ? v / lo : v / hi;
    const c = Math.round(255 * (1 - Math.min(1, t)));
    return v < 0 ? [c, c, 255] : [255, c, c];
  }
  const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
  const c = Math.round(255 * (1 - t));
  return [c, Math.round(255 - 155 * t), 255];
}
function heatmap(hm, size = 200) {
  const rows = hm.cells.length, cols = rows ? hm.cells[0].length : 0;
  const canvas = h("canvas", { class: "ckv-heat", width: cols, height: rows });
  const scale = size / Math.max(rows, cols, 1);
  canvas.style.width = `${cols * scale}px`;
  canvas.style.height = `${rows * scale}px`;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(cols, rows);
  hm.cells.forEach((row, r) => row.forEach((v, c) => {
    const [R, G, B] = colourOf(v, hm.min, hm.max);
    img.data.set([R, G, B, 255], (r * cols + c) * 4);
  }));
  ctx.putImageData(img, 0, 0);
  const note = hm.step[0] > 1 || hm.step[1] > 1 ? ` (every ${hm.step[0]}th row, ${hm.step[1]}th column)` : "";
  return h("div", { class: "ckv-heatbox" }, canvas,
    h("div", { class: "ckv-note", text: `${hm.rows}×${hm.cols}${note}; ${fmt(hm.min)} … ${fmt(hm.max)}` }));
}

const STATS = ["min", "max", "mean", "std", "finite", "nan", "inf", "zeros"];
// The tensor panel: values, statistics, histogram, heatmap and the N-D slicer.
function tensorPanel(model) {
  const root = h("div", { class: "ckv-tensor" });
  const draw = () => {
    const p = model.get("preview"), st = model.get("stats");
    root.replaceChildren();
    if (!p || !p.key) return;
    root.append(h("div", { class: "ckv-key", text: p.key }),
      h("div", { class: "ckv-note", text: `${p.dtype} ${shapeText(p.shape)} · ${p.size}` }));
    if (p.note) root.append(h("div", { class: "ckv-note ckv-unverified", text: p.note }));  // values shown unchecked
    if (p.shape && p.shape.length > 2) {
      const picks = p.shape.slice(0, -2).map((n, d) => {
        const input = h("input", { type: "number", min: 0, max: n - 1, value: p.index[d] ?? 0, "data-dim": d,
          onchange: () => put(model, "index", [...root.querySelectorAll("input[data-dim]")].map((x) => +x.value)) });
        return h("label", {}, `dim ${d} (0…${n - 1}) `, input);
      });
      root.append(h("div", { class: "ckv-slicer" }, ...picks, h("span", { text: ` slice ${p.slice}` })));
    }
    const stats = h("table", { class: "ckv-stats" });
    if (st && STATS.some((k) => k in st)) {
      for (const k of STATS) stats.append(h("tr", {}, h("th", { text: k }), h("td", { class: `ckv-stat-${k}`, text: fmt(st[k]) })));
    } else if (st && st.none) stats.append(h("tr", {}, h("td", { text: st.none })));
    else stats.append(h("tr", {}, h("td", { text: "statistics: computing…" })));
    const plots = h("div", { class: "ckv-plots" });
    if (st && st.histogram) plots.append(histogram(st.histogram));
    if (p.heatmap) plots.append(heatmap(p.heatmap));
    root.append(h("div", { class: "ckv-row" }, stats, plots), h("pre", { class: "ckv-values", text: p.values }));
  };
  model.on("change:preview", draw);
  model.on("change:stats", draw);
  draw();
  return root;
}
