// Main-area tabs for two checkpoints (their diff) and a training run (its timeline).
import { Widget } from '@lumino/widgets';
import { formatShape, formatValue, IDiff, ITimeline } from './model';
import { requestAPI } from './request';
import { el } from './tensor';

function cell(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : formatValue(value);
}

function table(head: string[], rows: (string | Node)[][]): HTMLTableElement {
  const t = el('table', 'ckptviz-table');
  const tr = el('tr');
  head.forEach(h => tr.append(el('th', '', h)));
  t.append(tr);
  for (const row of rows) {
    const r = el('tr');
    row.forEach(c => {
      const td = el('td');
      td.append(c);
      r.append(td);
    });
    t.append(r);
  }
  return t;
}

export class DiffView extends Widget {
  constructor(
    readonly a: string,
    readonly b: string
  ) {
    super();
    this.addClass('ckptviz-run');
    this.id = `ckptviz-diff-${encodeURIComponent(a)}-${encodeURIComponent(b)}`;
    this.title.label = `Diff: ${a.split('/').pop()} → ${b.split('/').pop()}`;
    this.title.caption = `${a} → ${b}`;
    this.title.closable = true;
  }

  async load(only = 'added,removed,changed'): Promise<void> {
    this.node.replaceChildren(el('div', 'ckptviz-loading', 'Comparing…'));
    let d: IDiff;
    try {
      d = await requestAPI<IDiff>('diff', { a: this.a, b: this.b, only, limit: 1000 });
    } catch (error: any) {
      this.node.replaceChildren(el('div', 'ckptviz-error', error.message));
      return;
    }
    const c = d.counts;
    const head = el('div', 'ckptviz-summary');
    head.textContent = d.equal
      ? `${d.a} and ${d.b} are equal.`
      : `${d.a} → ${d.b}: ${c.changed} changed, ${c.added} added, ${c.removed} removed, ${c.unchanged} unchanged`;
    const all = el('label', 'ckptviz-dim');
    const box = el('input');
    box.type = 'checkbox';
    box.checked = only === '';
    box.onchange = () => void this.load(box.checked ? '' : 'added,removed,changed');
    all.append(box, ' show unchanged keys');
    const rows = d.rows.map(r => [
      Object.assign(el('code', '', r.name ?? r.key), { title: r.key }),
      el('span', `ckptviz-status-${r.status}`, r.status),
      r.dtype_a ? `${r.dtype_a}${formatShape(r.shape_a ?? [])}` : '',
      r.dtype_b ? `${r.dtype_b}${formatShape(r.shape_b ?? [])}` : '',
      cell(r.max_abs_diff),
      cell(r.relative_change),
      cell(r.fraction_changed)
    ]);
    const more = d.total > d.rows.length ? el('div', 'ckptviz-dim', `first ${d.rows.length} of ${d.total} rows`) : '';
    const rollups = d.rollups
      .filter(r => r.status !== 'unchanged' || r.frozen)
      .slice(0, 200)
      .map(r => [
        el('code', '', r.path || '(root)'),
        r.status,
        String(r.params),
        cell(r.fraction_changed),
        cell(r.relative_change),
        [r.frozen ? 'frozen' : '', r.exploded ? 'exploded' : ''].filter(Boolean).join(' ')
      ]);
    this.node.replaceChildren(
      head,
      all,
      table(['key', 'status', 'a', 'b', 'max |Δ|', '‖Δ‖/‖a‖', 'changed'], rows),
      more,
      el('h3', '', 'By subtree'),
      table(['path', 'status', 'params', 'changed', '‖Δ‖/‖a‖', ''], rollups)
    );
  }
}

function sparkline(values: (number | null)[]): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const w = 120;
  const h = 24;
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('class', 'ckptviz-sparkline');
  const finite = values.filter((v): v is number => v !== null);
  if (finite.length) {
    const lo = Math.min(...finite);
    const hi = Math.max(...finite);
    const x = (i: number): number => (values.length > 1 ? (i / (values.length - 1)) * (w - 2) + 1 : w / 2);
    const y = (v: number): number => (hi > lo ? h - 2 - ((v - lo) / (hi - lo)) * (h - 4) : h / 2);
    const points = values
      .map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`))
      .filter(Boolean)
      .join(' ');
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', points);
    svg.append(line);
  }
  return svg;
}

export class TimelineView extends Widget {
  constructor(readonly path: string) {
    super();
    this.addClass('ckptviz-run');
    this.id = `ckptviz-timeline-${encodeURIComponent(path)}`;
    this.title.label = `Timeline: ${path.split('/').pop() || '/'}`;
    this.title.caption = path;
    this.title.closable = true;
  }

  async load(): Promise<void> {
    this.node.replaceChildren(el('div', 'ckptviz-loading', 'Reading the run…'));
    let t: ITimeline;
    try {
      t = await requestAPI<ITimeline>('timeline', { path: this.path });
    } catch (error: any) {
      this.node.replaceChildren(el('div', 'ckptviz-error', error.message));
      return;
    }
    const steps = t.steps.map(s => s.step);
    const head = el('div', 'ckptviz-summary', `${t.steps.length} checkpoints, steps ${steps.join(', ')}`);
    const rows = Object.entries(t.variables).map(([key, v]) => {
      const last = [...v.series].reverse().find(s => s !== null) ?? null;
      return [
        el('code', '', key),
        sparkline(v.series.map(s => s?.mean ?? null)),
        sparkline(v.series.map(s => s?.std ?? null)),
        sparkline(v.series.map(s => s?.relative_change ?? null)),
        cell(last?.mean),
        cell(last?.std)
      ];
    });
    const more = t.truncated ? el('div', 'ckptviz-dim', `first ${rows.length} of ${t.total_variables} variables`) : '';
    this.node.replaceChildren(head, table(['variable', 'mean', 'std', 'change', 'last mean', 'last std'], rows), more);
  }
}
