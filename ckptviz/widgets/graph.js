// ObjectGraphView: paint the laid-out plan, pan/zoom, click to select, double-click to expand/collapse.
function render({ model, el }) {
  el.classList.add("ckv");
  const svg = s("svg", { class: "ckv-graph" });
  const layer = s("g");
  svg.append(layer);
  let box = null; // current viewBox [x, y, w, h]
  let touched = false; // the user panned, zoomed or searched: keep their view on resize
  const setBox = (b) => { box = b; svg.setAttribute("viewBox", b.join(" ")); };
  const size = () => { const r = svg.getBoundingClientRect(); return [r.width || 800, r.height || 520]; };

  const query = h("input", { type: "search", class: "ckv-search", placeholder: "find: path, name or full name",
    onkeydown: (e) => { if (e.key === "Enter") put(model, "query", query.value); } });
  const colour = h("select", { class: "ckv-colour", onchange: () => put(model, "colour", colour.value) });
  const legend = h("span", { class: "ckv-legend" });
  const matches = h("div", { class: "ckv-matches" });
  const toolbar = h("div", { class: "ckv-bar0" }, query, h("label", {}, "colour ", colour),
    h("button", { text: "fit", onclick: () => { touched = false; fit(); } }), legend);
  const details = h("div", { class: "ckv-details" });
  const side = h("div", { class: "ckv-side" }, details, tensorPanel(model));
  el.append(statusBar(model), toolbar, matches, h("div", { class: "ckv-main" }, h("div", { class: "ckv-pane" }, svg), side));

  function drawNode(n) {
    const sel = model.get("selected") === n.id;
    const g = s("g", { class: `ckv-node ${n.kind}${sel ? " ckv-sel" : ""}`, "data-id": n.id, "data-kind": n.kind });
    const x = n.x - n.w / 2, y = n.y - n.h / 2;
    const dash = n.style.includes("dashed") ? "4 2" : null;
    const width = n.style.includes("bold") ? 2.6 : 1.4;
    if (n.collapsed) g.append(s("rect", { x: x + 4, y: y - 4, width: n.w, height: n.h, rx: 4, fill: n.fill, stroke: n.color }));
    g.append(s("rect", { x, y, width: n.w, height: n.h, rx: 4, fill: n.fill, stroke: n.color, "stroke-width": width, "stroke-dasharray": dash }));
    const top = n.y - ((n.lines.length - 1) * 12) / 2 + 3.5;
    n.lines.forEach((line, i) => g.append(s("text", { x: n.x, y: top + i * 12, "text-anchor": "middle", text: line })));
    return g;
  }
  function drawEdge(e) {
    const g = s("g", {});
    g.append(s("path", { class: "ckv-edge", d: e.d, stroke: e.color, "stroke-width": e.bold ? 2.4 : 1, "stroke-dasharray": e.dashed ? "5 3" : e.dotted ? "1.5 2.5" : null }));
    if (e.a) {
      const [px, py, tx, ty] = e.a, dx = tx - px, dy = ty - py, L = Math.hypot(dx, dy) || 1, ux = dx / L, uy = dy / L;
      const b = [tx - ux * 6, ty - uy * 6];
      g.append(s("polygon", { fill: e.color, points: `${tx},${ty} ${b[0] - uy * 2.5},${b[1] + ux * 2.5} ${b[0] + uy * 2.5},${b[1] - ux * 2.5}` }));
    }
    if (e.label) g.append(s("text", { class: "ckv-elabel", x: e.lx, y: e.ly + 3, "text-anchor": "middle", text: e.label }));
    return g;
  }
  function draw() {
    const d = model.get("drawing");
    layer.replaceChildren();
    if (!d || !d.nodes) return;
    for (const e of d.edges) layer.append(drawEdge(e));
    for (const n of d.nodes) layer.append(drawNode(n));
    legend.replaceChildren(...(d.legend || []).map((n) =>
      h("span", { style: `border-color:${n.color};background:${n.fill}`, text: n.lines.join(" ") || n.id })));
    if (!box) fit();
  }
  function fit() {
    const d = model.get("drawing");
    if (!d || !d.nodes) return;
    const [W, H] = size();
    const [bx, by, bw, bh] = d.box;
    const k = Math.min(W / bw, H / bh, 1.5);
    if (k < 0.4) { centreOn(d.nodes.find((n) => n.id === 0) || d.nodes[0], 0.7); return; }
    setBox([bx - (W / k - bw) / 2, by - (H / k - bh) / 2, W / k, H / k]);
  }
  function centreOn(n, k) {
    const [W, H] = size();
    k = k || (box ? W / box[2] : 1);
    setBox([n.x - W / k / 2, n.y - H / k / 2, W / k, H / k]);
  }
  function showDetails() {
    const d = model.get("details");
    details.replaceChildren();
    if (!d || d.id == null) { details.append(h("div", { class: "ckv-note", text: "click a node to see its details" })); return; }
    const row = (k, v) => [h("dt", { text: k }), h("dd", {}, v)];
    const link = (text, onclick) => h("span", { class: "ckv-link", text, onclick });
    const dl = h("dl", {},
      row("path", d.path || "(root)"), row("kind", d.kind),
      d.full_name ? row("full name", d.full_name) : null,
      d.dtype ? row("dtype, shape", `${d.dtype} ${shapeText(d.shape)}`) : null,
      row("bytes", `${d.nbytes} (${d.size})`),
      d.keys.length ? row("keys", h("div", {}, ...d.keys.map((k) => h("div", {}, link(k, () => put(model, "key", k)))))) : null,
      d.slots.length ? row("slots", h("div", {}, ...d.slots.map((sl) => h("div", {},
        `${sl.slot_name}: `, link(sl.slot_id === d.id ? `of ${sl.variable}` : sl.slot,
          () => put(model, "selected", sl.slot_id === d.id ? sl.variable_id : sl.slot_id)))))) : null,
      d.children_count ? row("children", `${d.children_count}`) : null);
    const picked = model.get("picked").includes(d.path);
    details.append(dl, h("div", {},
      h("button", { text: "expand", onclick: () => send(model, { do: "expand", node: d.id }) }),
      h("button", { text: "collapse", onclick: () => send(model, { do: "collapse", node: d.id }) }),
      h("button", { class: "ckv-pick", text: picked ? "unpick" : "pick for restore",
        onclick: () => send(model, picked ? { do: "unpick", path: d.path } : { do: "pick", node: d.id }) })));
  }
  function showMatches() {
    const m = model.get("matches");
    matches.replaceChildren(...m.slice(0, 8).map((x) =>
      h("span", { class: "ckv-link", style: "margin-right:8px", text: x.path || "(root)",
        onclick: () => { put(model, "selected", x.id); put(model, "centre", -1); put(model, "centre", x.id); } })));
  }
  function showColours() {
    colour.replaceChildren(...model.get("colours").map((c) => h("option", { value: c, text: c, selected: c === model.get("colour") })));
  }
  function centre() {
    const id = model.get("centre");
    const n = (model.get("drawing").nodes || []).find((x) => x.id === id);
    if (!n) return;
    touched = true;
    centreOn(n, Math.max(box ? size()[0] / box[2] : 1, 0.9));
    for (const g of layer.querySelectorAll(".ckv-hit")) g.classList.remove("ckv-hit");
    const g = layer.querySelector(`.ckv-node[data-id="${id}"]`);
    if (g) g.classList.add("ckv-hit");
  }

  // pan and zoom on the viewBox; a press that does not move is a click
  let drag = null;
  svg.addEventListener("pointerdown", (e) => { drag = { x: e.clientX, y: e.clientY, box: box && [...box], moved: false }; });
  svg.addEventListener("pointermove", (e) => {
    if (!drag || !drag.box) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = touched = true;
    if (!drag.moved) return;
    const k = drag.box[2] / size()[0];
    setBox([drag.box[0] - dx * k, drag.box[1] - dy * k, drag.box[2], drag.box[3]]);
  });
  svg.addEventListener("pointerup", (e) => {
    const moved = drag && drag.moved;
    drag = null;
    if (moved) return;
    const g = e.target.closest && e.target.closest(".ckv-node");
    if (!g) return;
    const id = +g.dataset.id;
    if (id < 0) send(model, { do: "expand", node: id });
    else put(model, "selected", id);
  });
  svg.addEventListener("dblclick", (e) => {
    const g = e.target.closest && e.target.closest(".ckv-node");
    if (!g) return;
    const n = model.get("drawing").nodes.find((x) => x.id === +g.dataset.id);
    if (n) send(model, { do: n.collapsed ? "expand" : "collapse", node: n.id });
  });
  svg.addEventListener("wheel", (e) => {
    if (!box) return;
    e.preventDefault();
    touched = true;
    const r = svg.getBoundingClientRect(), f = Math.exp(e.deltaY * 0.0015);
    const cx = box[0] + ((e.clientX - r.left) / r.width) * box[2], cy = box[1] + ((e.clientY - r.top) / r.height) * box[3];
    setBox([cx - (cx - box[0]) * f, cy - (cy - box[1]) * f, box[2] * f, box[3] * f]);
  }, { passive: false });

  model.on("change:drawing", draw);
  model.on("change:selected", draw);
  model.on("change:details", showDetails);
  model.on("change:picked", showDetails);
  model.on("change:matches", showMatches);
  model.on("change:colours", showColours);
  model.on("change:colour", showColours);
  model.on("change:centre", centre);
  showColours();
  showDetails();
  const resized = new ResizeObserver(() => { if (!touched) fit(); });
  resized.observe(svg);
  requestAnimationFrame(() => { draw(); centre(); });
  return () => resized.disconnect();
}
export default { render };
