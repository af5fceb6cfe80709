// Main-area tabs for two checkpoints (their diff) and a training run (its timeline).
import { Widget } from '@lumino/widgets';
import { formatShape, formatValue, IDiff, IDiffRow, ITensor, ITimeline } from './model';
import { requestAPI } from './request';
import { el, histogram } from './tensor';

function cell(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : formatValue(value);
}

function table(head: string[], rows: (string | Node)[][], onRow?: (i: number, tr: HTMLElement) => void): HTMLTableElement {
  const t = el('table', 'ckptviz-table');
  const thead = el('thead');
  const tr = el('tr');
  head.forEach(h => tr.append(el('th', '', h)));
  thead.append(tr);
  const body = el('tbody');
  rows.forEach((row, i) => {
    const r = el('tr');
    row.forEach(c => {
      const td = el('td');
      td.append(c);
      r.append(td);
    });
    if (onRow) {
      r.tabIndex = 0;
      r.classList.add('ckptviz-clickable');
      r.onclick = () => onRow(i, r);
      r.onkeydown = ev => {
        if (ev.key === 'Enter') {
          onRow(i, r);
        }
      };
    }
    body.append(r);
  });
  t.append(thead, body);
  return t;
}

/** A running request's line: what it does, seconds spent, and Cancel (which aborts it). */
function progressLine(text: string, onCancel: () => void): HTMLElement {
  const line = el('div', 'ckptviz-loading ckptviz-progress');
  const label = el('span', '', `${text} 0 s`);
  const bar = el('progress');
  const cancel = el('button', 'jp-Button jp-mod-styled ckptviz-button', 'Cancel');
  cancel.onclick = onCancel;
  line.append(label, bar, cancel);
  const start = Date.now();
  const timer = window.setInterval(() => {
    if (!line.isConnected) {
      window.clearInterval(timer);
      return;
    }
    label.textContent = `${text} ${Math.round((Date.now() - start) / 1000)} s`;
  }, 500);
  return line;
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
    this._abort?.abort();
    const abort = new AbortController();
    this._abort = abort;
    this.node.replaceChildren(
      progressLine(`Comparing ${this.a} and ${this.b}…`, () => {
        abort.abort();
        this.node.replaceChildren(
          el('div', 'ckptviz-dim', 'Cancelled.'),
          Object.assign(el('button', 'jp-Button jp-mod-styled ckptviz-button', 'Compare again'), {
            onclick: () => void this.load(only)
          })
        );
      })
    );
    let d: IDiff;
    try {
      d = await requestAPI<IDiff>('diff', { a: this.a, b: this.b, only, limit: 1000 }, { signal: abort.signal });
    } catch (error: any) {
      if (!abort.signal.aborted) {
        this.node.replaceChildren(el('div', 'ckptviz-error', error.message));
      }
      return;
    }
    const c = d.counts;
    const head = el('div', 'ckptviz-summary');
    const same = c.changed + c.added + c.removed === 0;
    head.textContent = same
      ? `${d.a} and ${d.b} are equal: all ${c.unchanged} keys have the same values.`
      : `${d.a} → ${d.b}: ${c.changed} changed, ${c.added} added, ${c.removed} removed, ${c.unchanged} unchanged`;
    if (same && only !== '') {
      this.node.replaceChildren(head); // no table of thousands of "unchanged" rows
      return;
    }
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
      .filter(r => r.status !== 'unchanged' || (r.frozen && !same))
      .slice(0, 200)
      .map(r => [
        el('code', '', r.path || '(root)'),
        r.status,
        String(r.params),
        cell(r.fraction_changed),
        cell(r.relative_change),
        [r.frozen ? 'frozen' : '', r.exploded ? 'exploded' : ''].filter(Boolean).join(' ')
      ]);
    this._detail = el('div', 'ckptviz-diff-detail');
    let picked: HTMLElement | null = null;
    const rowTable = table(['key', 'status', 'a', 'b', 'max |Δ|', '‖Δ‖/‖a‖', 'changed'], rows, (i, tr) => {
      picked?.classList.remove('jp-mod-selected');
      picked = tr;
      tr.classList.add('jp-mod-selected');
      void this._show(d.rows[i]);
    });
    const scroll = el('div', 'ckptviz-diff-rows');
    scroll.append(rowTable);
    this.node.replaceChildren(
      head,
      all,
      el('div', 'ckptviz-dim', 'click a row: both tensors and the histogram of their difference'),
      scroll,
      more,
      this._detail,
      el('h3', '', 'By subtree'),
      table(['path', 'status', 'params', 'changed', '‖Δ‖/‖a‖', ''], rollups)
    );
  }

  /** Both sides of a row, side by side, and the histogram of b − a. */
  private async _show(row: IDiffRow): Promise<void> {
    const detail = this._detail;
    if (!detail) {
      return;
    }
    detail.replaceChildren(el('div', 'ckptviz-loading', `Reading ${row.name ?? row.key}…`));
    const side = async (path: string, present: boolean, minus?: string): Promise<HTMLElement> => {
      const box = el('div', 'ckptviz-diff-side');
      box.append(el('div', 'ckptviz-tensor-title', path));
      if (!present) {
        box.append(el('div', 'ckptviz-dim', 'not in this checkpoint'));
        return box;
      }
      try {
        const t = await requestAPI<ITensor & { delta?: { stats: ITensor['stats']; reason: string | null } }>('tensor', {
          path,
          key: row.key,
          bins: 30,
          minus
        });
        const s = t.stats;
        box.append(
          el('div', 'ckptviz-dim', `${t.dtype}${formatShape(t.shape)}`),
          el('div', '', s ? `min ${cell(s.min)} · max ${cell(s.max)} · mean ${cell(s.mean)} · std ${cell(s.std)}` : '')
        );
        const chart = histogram(s?.histogram, `${path} ${row.key}`);
        if (chart) {
          box.append(chart);
        }
        if (t.delta) {
          this._delta = t.delta;
        }
      } catch (error: any) {
        box.append(el('div', 'ckptviz-error', error.message));
      }
      return box;
    };
    this._delta = null;
    const [a, b] = await Promise.all([
      side(this.a, row.status !== 'added'),
      side(this.b, row.status !== 'removed', row.status === 'changed' || row.status === 'unchanged' ? this.a : undefined)
    ]);
    const delta = el('div', 'ckptviz-diff-side ckptviz-delta');
    delta.append(el('div', 'ckptviz-tensor-title', 'Δ = b − a'));
    const d = this._delta as { stats: ITensor['stats']; reason: string | null } | null;
    if (d?.stats) {
      const s = d.stats;
      delta.append(el('div', '', `min ${cell(s.min)} · max ${cell(s.max)} · mean ${cell(s.mean)} · zeros ${s.zeros} / ${s.size}`));
      const chart = histogram(s.histogram, `difference of ${row.key}`);
      if (chart) {
        delta.append(chart);
      }
    } else {
      delta.append(el('div', 'ckptviz-dim', d?.reason ?? 'no difference to draw'));
    }
    const columns = el('div', 'ckptviz-diff-columns');
    columns.append(a, b, delta);
    detail.replaceChildren(el('h3', '', row.name ?? row.key), columns);
  }

  private _abort: AbortController | null = null;
  private _detail: HTMLElement | null = null;
  private _delta: unknown = null;
}

/** A line of `values` over `steps` with its axes: the value range at the left, first and last step
 *  below; each point says its step and value on hover. */
export function sparkline(values: (number | null)[], steps: number[], label: string): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const w = 170;
  const h = 40;
  const left = 42;
  const plot = 28;
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('class', 'ckptviz-sparkline');
  svg.setAttribute('aria-label', label);
  const text = (x: number, y: number, anchor: string, t: string): void => {
    const node = document.createElementNS(ns, 'text');
    node.setAttribute('x', String(x));
    node.setAttribute('y', String(y));
    node.setAttribute('text-anchor', anchor);
    node.setAttribute('class', 'ckptviz-tick');
    node.textContent = t;
    svg.append(node);
  };
  const finite = values.filter((v): v is number => v !== null);
  if (!finite.length) {
    text(left, plot / 2 + 3, 'start', 'no values');
    return svg;
  }
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const x = (i: number): number => (values.length > 1 ? left + (i / (values.length - 1)) * (w - left - 4) : (left + w) / 2);
  const y = (v: number): number => (hi > lo ? plot - 2 - ((v - lo) / (hi - lo)) * (plot - 6) : plot / 2);
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute(
    'points',
    values
      .map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`))
      .filter(Boolean)
      .join(' ')
  );
  svg.append(line);
  values.forEach((v, i) => {
    if (v === null) {
      return;
    }
    const dot = document.createElementNS(ns, 'circle');
    dot.setAttribute('cx', x(i).toFixed(1));
    dot.setAttribute('cy', y(v).toFixed(1));
    dot.setAttribute('r', '2.2');
    const tip = document.createElementNS(ns, 'title');
    tip.textContent = `step ${steps[i] ?? i}: ${formatValue(v)}`;
    dot.append(tip);
    svg.append(dot);
  });
  const axis = document.createElementNS(ns, 'polyline');
  axis.setAttribute('points', `${left},2 ${left},${plot} ${w - 4},${plot}`);
  axis.setAttribute('class', 'ckptviz-axis');
  svg.append(axis);
  text(left - 3, 8, 'end', formatValue(hi));
  text(left - 3, plot, 'end', formatValue(lo));
  text(left, h - 2, 'start', String(steps[0] ?? ''));
  text(w - 4, h - 2, 'end', String(steps[steps.length - 1] ?? ''));
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
        sparkline(v.series.map(s => s?.mean ?? null), steps, `mean of ${key}`),
        sparkline(v.series.map(s => s?.std ?? null), steps, `std of ${key}`),
        sparkline(v.series.map(s => s?.relative_change ?? null), steps, `change of ${key}`),
        cell(last?.mean),
        cell(last?.std)
      ];
    });
    const more = t.truncated ? el('div', 'ckptviz-dim', `first ${rows.length} of ${t.total_variables} variables`) : '';
    const note = el('div', 'ckptviz-dim', 'hover a point for its step and value; axes: value range, first and last step');
    this.node.replaceChildren(head, note, table(['variable', 'mean', 'std', 'change', 'last mean', 'last std'], rows), more);
  }
}
