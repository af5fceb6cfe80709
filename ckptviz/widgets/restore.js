// RestoreView: selection, target object, will-it-load report, restore / save / code.
function render({ model, el }) {
  el.classList.add("ckv");
  const paths = h("textarea", { class: "ckv-paths", rows: 3, placeholder: "object paths or key globs, one a line (empty: all under the subtree)",
    onchange: () => send(model, { do: "set_paths", paths: paths.value.split("\n") }) });
  const field = (name, placeholder, cls) => h("input", { class: cls, placeholder, value: model.get(name),
    onchange: (e) => put(model, name, e.target.value) });
  const target = field("target", "live object, e.g. model", "ckv-target");
  const root = field("root", "checkpoint subtree it stands for, e.g. net", "ckv-root");
  const saveTo = field("save_to", "new checkpoint prefix", "ckv-save-to");
  const report = h("div", { class: "ckv-report" });
  const result = h("div", { class: "ckv-result ckv-ok" });
  const code = h("div", { class: "ckv-code" });
  el.append(statusBar(model),
    h("div", {}, h("b", { text: "restore " }), h("span", { class: "ckv-note", text: "pick subtrees in the Graph or Tensors tab, or type them" })),
    paths,
    h("div", { class: "ckv-bar0" }, "into ", target, " as checkpoint subtree ", root),
    h("div", { class: "ckv-bar0" },
      h("button", { class: "ckv-check", text: "will it load?", onclick: () => send(model, { do: "check" }) }),
      h("button", { class: "ckv-restore", text: "restore", onclick: () => send(model, { do: "restore" }) }),
      saveTo, h("button", { class: "ckv-save", text: "save as checkpoint", onclick: () => send(model, { do: "save" }) })),
    result, report, code);

  function draw() {
    if (document.activeElement !== paths) paths.value = model.get("paths").join("\n");
    target.value = model.get("target"); root.value = model.get("root");
    result.textContent = model.get("result");
    const r = model.get("report");
    report.replaceChildren();
    if (r && r.rows) {
      const counts = Object.entries(r.counts).map(([k, v]) => `${v} ${k}`).join(", ");
      report.append(h("div", { class: r.ok ? "ckv-ok" : "ckv-bad", text: `${r.ok ? "everything pairs up" : "not everything pairs up"}: ${counts}` }));
      const t = h("table", {}, h("tr", {}, ...["status", "path", "checkpoint", "object"].map((x) => h("th", { text: x }))));
      for (const row of r.rows) t.append(h("tr", { class: `ckv-${row[0]}` }, ...row.map((x) => h("td", { text: x }))));
      report.append(t);
      if (r.more) report.append(h("div", { class: "ckv-note", text: `… ${r.more} more rows` }));
    }
    code.replaceChildren(...Object.entries(model.get("code")).map(([name, text]) => {
      const area = h("textarea", { rows: Math.min(12, text.split("\n").length), readonly: true, class: `ckv-code-${name}` });
      area.value = text;
      const copy = h("button", { text: `copy ${name} code`, onclick: async () => {
        area.select();
        try { await navigator.clipboard.writeText(text); copy.textContent = "copied"; }
        catch { document.execCommand && document.execCommand("copy"); copy.textContent = "selected: press Ctrl+C"; }
      } });
      return h("div", {}, copy, area);
    }));
  }
  for (const n of ["paths", "target", "root", "report", "result", "code"]) model.on(`change:${n}`, draw);
  draw();
}
export default { render };
