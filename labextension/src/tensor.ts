// A variable's preview, statistics and histogram, drawn into a plain element.
import { formatShape, formatValue, ITensor } from './model';
import { requestAPI } from './request';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (cls) {
    node.className = cls;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

export { el };

/** An SVG bar chart of the histogram, coloured by the theme. */
function histogram(t: ITensor): SVGSVGElement | null {
  const h = t.stats?.histogram;
  if (!h || !h.counts.length) {
    return null;
  }
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const width = 240;
  const height = 64;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'ckptviz-histogram');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `histogram of ${t.key}`);
  const top = Math.max(...h.counts, 1);
  const w = width / h.counts.length;
  h.counts.forEach((c, i) => {
    const bar = document.createElementNS(ns, 'rect');
    const bh = (c / top) * (height - 2);
    bar.setAttribute('x', String(i * w));
    bar.setAttribute('y', String(height - bh));
    bar.setAttribute('width', String(Math.max(w - 1, 1)));
    bar.setAttribute('height', String(bh));
    const tip = document.createElementNS(ns, 'title');
    tip.textContent = `[${formatValue(h.edges[i])}, ${formatValue(h.edges[i + 1])}): ${c}`;
    bar.appendChild(tip);
    svg.appendChild(bar);
  });
  return svg;
}

/** Fill `host` with the preview of `key`; `slice` is numpy basic slicing (`0:4, :`). */
export async function showTensor(
  host: HTMLElement,
  path: string,
  key: string,
  slice = '',
  stats: 'auto' | '1' = 'auto'
): Promise<void> {
  host.replaceChildren(el('div', 'ckptviz-loading', 'Loading…'));
  let t: ITensor;
  try {
    t = await requestAPI<ITensor>('tensor', { path, key, slice, bins: 30, stats });
  } catch (error: any) {
    host.replaceChildren(el('div', 'ckptviz-error', error.message));
    return;
  }
  const title = el('div', 'ckptviz-tensor-title');
  title.append(el('code', '', t.key), el('span', 'ckptviz-dim', ` ${t.dtype}${formatShape(t.shape)}`));
  const form = el('form', 'ckptviz-slice');
  const input = el('input');
  input.placeholder = 'slice, e.g. 0:4, :';
  input.value = t.slice;
  input.setAttribute('aria-label', 'slice');
  form.append(input);
  form.onsubmit = ev => {
    ev.preventDefault();
    void showTensor(host, path, key, input.value, stats);
  };
  const parts: Node[] = [title, form];
  if (t.stats_skipped && t.dtype !== 'string' && t.dtype !== 'variant') {
    const compute = el('button', 'jp-Button jp-mod-styled ckptviz-button', 'Compute statistics');
    compute.onclick = () => void showTensor(host, path, key, input.value, '1');
    parts.push(compute);
  }
  if (t.stats) {
    const s = t.stats;
    const table = el('table', 'ckptviz-stats');
    const rows: [string, string][] = [
      ['min', s.min === null ? '–' : formatValue(s.min)],
      ['max', s.max === null ? '–' : formatValue(s.max)],
      ['mean', s.mean === null ? '–' : formatValue(s.mean)],
      ['std', s.std === null ? '–' : formatValue(s.std)],
      ['zeros', `${s.zeros} / ${s.size}`]
    ];
    if (s.nan || s.inf) {
      rows.push(['nan / inf', `${s.nan} / ${s.inf}`]);
    }
    for (const [k, v] of rows) {
      const tr = el('tr');
      tr.append(el('th', '', k), el('td', '', v));
      table.append(tr);
    }
    parts.push(table);
    const chart = histogram(t);
    if (chart) {
      parts.push(chart);
    }
  }
  const values = t.preview.values.map(formatValue).join(', ');
  const more = t.preview.truncated ? ', …' : '';
  parts.push(el('pre', 'ckptviz-preview', `${formatShape(t.preview.shape)}: ${values}${more}`));
  host.replaceChildren(...parts);
}
