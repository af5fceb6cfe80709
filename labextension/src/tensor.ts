// A variable's preview, statistics and histogram, drawn into a plain element.
import { formatShape, formatValue, IHistogram, ITensor } from './model';
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

const SVG = 'http://www.w3.org/2000/svg';

function svgEl(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, String(v));
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** An SVG bar chart of a histogram with its axes: value edges below, the tallest count at the
 *  left; each bar says its range and count on hover. Coloured by the theme. */
export function histogram(h: IHistogram | null | undefined, label: string): SVGSVGElement | null {
  if (!h || !h.counts.length) {
    return null;
  }
  const svg = document.createElementNS(SVG, 'svg');
  const width = 260;
  const height = 84;
  const left = 34; // room for the count axis
  const plot = 62; // bars' height; the value axis below
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'ckptviz-histogram');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `histogram of ${label}`);
  const top = Math.max(...h.counts, 1);
  const w = (width - left - 4) / h.counts.length;
  h.counts.forEach((c, i) => {
    const bh = (c / top) * (plot - 4);
    const bar = svgEl('rect', { x: left + i * w, y: plot - bh, width: Math.max(w - 1, 1), height: bh });
    bar.appendChild(svgEl('title', {}, `[${formatValue(h.edges[i])}, ${formatValue(h.edges[i + 1])}): ${c}`));
    svg.appendChild(bar);
  });
  const axis = { class: 'ckptviz-axis' };
  svg.append(
    svgEl('line', { ...axis, x1: left, y1: plot, x2: width - 4, y2: plot }),
    svgEl('line', { ...axis, x1: left, y1: 2, x2: left, y2: plot }),
    svgEl('text', { class: 'ckptviz-tick', x: left - 3, y: 10, 'text-anchor': 'end' }, String(top)),
    svgEl('text', { class: 'ckptviz-tick', x: left - 3, y: plot, 'text-anchor': 'end' }, '0'),
    svgEl('text', { class: 'ckptviz-tick', x: left, y: plot + 12, 'text-anchor': 'start' }, formatValue(h.edges[0])),
    svgEl(
      'text',
      { class: 'ckptviz-tick', x: width - 4, y: plot + 12, 'text-anchor': 'end' },
      formatValue(h.edges[h.edges.length - 1])
    ),
    svgEl('text', { class: 'ckptviz-tick ckptviz-dim', x: (left + width) / 2, y: plot + 21, 'text-anchor': 'middle' }, 'value')
  );
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
    const chart = histogram(t.stats.histogram, t.key);
    if (chart) {
      parts.push(chart);
    }
  }
  const values = t.preview.values.map(formatValue).join(', ');
  const more = t.preview.truncated ? ', …' : '';
  parts.push(el('pre', 'ckptviz-preview', `${formatShape(t.preview.shape)}: ${values}${more}`));
  if (t.preview.note) {
    parts.push(el('div', 'ckptviz-dim ckptviz-unverified', t.preview.note));
  }
  host.replaceChildren(...parts);
}
