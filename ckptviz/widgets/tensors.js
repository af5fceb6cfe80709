// TensorsView: a windowed table (rows come from Python as you scroll), filter, sort, tensor panel.
const ROW = 20;
function render({ model, el }) {
  el.classList.add("ckv");
  const filter = h("input", { type: "search", class: "ckv-filter", placeholder: "filter keys and object paths",
    value: model.get("filter"), oninput: () => { clearTimeout(filter.t); filter.t = setTimeout(() => put(model, "filter", filter.value), 150); } });
  const mode = h("select", { class: "ckv-mode", onchange: () => put(model, "mode", mode.value) },
    ...["substring", "glob", "regex"].map((m) => h("option", { value: m, text: m, selected: m === model.get("mode") })));
  const count = h("span", { class: "ckv-count" });
  const head = h("tr");
  const body = h("tbody");
  const spacer = h("div");
  const thead = h("thead", {}, head);
  const table = h("table", { class: "ckv-table" }, thead, body);
  const scroll = h("div", { class: "ckv-scroll" }, spacer, table);
  table.style.position = "absolute"; table.style.top = "0";
  const side = h("div", { class: "ckv-side" },
    h("button", { class: "ckv-pick", text: "pick for restore", onclick: () => model.get("key") && send(model, { do: "pick", key: model.get("key") }) }),
    tensorPanel(model));
  el.append(statusBar(model), h("div", { class: "ckv-bar0" }, filter, mode, count),
    h("div", { class: "ckv-main" }, h("div", { class: "ckv-pane" }, scroll), side));

  const cols = [["key", "key"], ["name", "name"], ["dtype", "dtype"], ["shape", "shape"], ["size", "size"]];
  function drawHead() {
    head.replaceChildren(...cols.map(([c, label]) => {
      const arrow = model.get("sort") === c ? (model.get("descending") ? " ▼" : " ▲") : "";
      return h("th", { "data-col": c, text: label + arrow, onclick: () => {
        if (model.get("sort") === c) model.set("descending", !model.get("descending"));
        else { model.set("sort", c); model.set("descending", c === "size"); }
        model.save_changes();
      } });
    }));
  }
  function drawRows() {
    const off = model.get("offset");
    spacer.style.height = `${(model.get("matched") + 1) * ROW}px`;
    table.style.transform = `translateY(${off * ROW}px)`;
    pinHead();
    body.replaceChildren(...model.get("rows").map(([key, name, dtype, shape, , size]) =>
      h("tr", { class: key === model.get("key") ? "ckv-sel" : null, "data-key": key, onclick: () => put(model, "key", key) },
        h("td", { text: key, title: key }), h("td", { text: name === key ? "" : name, title: name }), h("td", { text: dtype }),
        h("td", { text: shapeText(shape) }), h("td", { text: size }))));
    const m = model.get("matched"), t = model.get("total");
    count.textContent = m === t ? `${t} keys` : `${m} of ${t} keys`;
  }
  // the header stays at the top of the scrolled box: the table moves with its window of rows,
  // the header moves back by as much (CSS sticky does not hold inside a translated table)
  function pinHead() {
    thead.style.transform = `translateY(${scroll.scrollTop - model.get("offset") * ROW}px)`;
  }
  // scrolling asks Python for the window at the new offset
  scroll.addEventListener("scroll", () => {
    pinHead();
    const want = Math.max(0, Math.floor(scroll.scrollTop / ROW) - 20);
    const off = model.get("offset"), limit = model.get("limit");
    const first = Math.floor(scroll.scrollTop / ROW), last = first + Math.ceil(scroll.clientHeight / ROW);
    if (first < off || last > off + limit) put(model, "offset", want);
  });
  for (const n of ["rows", "matched", "key"]) model.on(`change:${n}`, drawRows);
  model.on("change:sort", drawHead);
  model.on("change:descending", drawHead);
  model.on("change:filter", () => { if (document.activeElement !== filter) filter.value = model.get("filter"); scroll.scrollTop = 0; });
  drawHead();
  drawRows();
}
export default { render };
