// The graph of a checkpoint in a main-area tab: the server's SVG of the render plan, fitted to the
// view on open, with pan (drag), zoom about the cursor (wheel, +/-), Fit, click-to-inspect in a
// panel that folds away, and expand/collapse/focus/find that re-plan on the server (a newer
// request aborts the one before, which stops its layout there).
import { Widget } from '@lumino/widgets';
import { formatBytes, formatShape, IGraph, IPlanNode, standInParent } from './model';
import { requestAPI } from './request';
import { el, showTensor } from './tensor';

const MAX_SCALE = 4;
const OVERVIEW_NODES = 100; // the exported pictures' default: an overview that reads on one screen
const MIN_SCALE = 0.02;

export class GraphView extends Widget {
  constructor(readonly path: string) {
    super();
    this.addClass('ckptviz-graph');
    this.id = `ckptviz-graph-${encodeURIComponent(path)}`;
    this.title.label = `Graph: ${path.split('/').pop() || path}`;
    this.title.caption = path;
    this.title.closable = true;
    const bar = el('div', 'ckptviz-graph-bar');
    this._find = el('input', 'jp-mod-styled ckptviz-graph-find');
    this._find.type = 'search';
    this._find.placeholder = 'find: name, path or key';
    this._find.setAttribute('aria-label', 'find');
    this._find.onkeydown = ev => {
      if (ev.key === 'Enter') {
        this._reveal = this._find.value.trim();
        void this.load();
      }
    };
    this._filter = el('input', 'jp-mod-styled');
    this._filter.type = 'search';
    this._filter.placeholder = 'filter: text or glob (paths, names)';
    this._filter.setAttribute('aria-label', 'filter');
    this._filter.onchange = () => void this.load();
    const button = (label: string, aria: string, run: () => void): HTMLButtonElement => {
      const b = el('button', 'jp-Button jp-mod-styled', label);
      b.setAttribute('aria-label', aria);
      b.title = aria;
      b.onclick = run;
      return b;
    };
    const reset = button('Reset', 'reset folds, filter and zoom', () => {
      this._collapse.clear();
      this._expand.clear();
      this._focus = '';
      this._reveal = '';
      this._filter.value = '';
      this._find.value = '';
      this._fitted = this._touched = false; // the next picture fits the view
      this._closeInspector();
      void this.load();
    });
    this._status = el('span', 'ckptviz-dim ckptviz-graph-status');
    bar.append(
      this._find,
      this._filter,
      reset,
      button('Fit', 'fit the picture to the view', () => this.fit()),
      button('+', 'zoom in', () => this._zoomAt(1.25)),
      button('−', 'zoom out', () => this._zoomAt(0.8)),
      this._status
    );
    this._viewport = el('div', 'ckptviz-graph-viewport');
    this._viewport.tabIndex = 0;
    this._canvas = el('div', 'ckptviz-graph-canvas');
    this._viewport.append(this._canvas);
    this._inspector = el('div', 'ckptviz-graph-inspector');
    this._inspector.hidden = true;
    const main = el('div', 'ckptviz-graph-main');
    main.append(this._viewport, this._inspector);
    this.node.append(bar, main);
    this._panAndZoom();
    // the view fits again when it changes size (the inspector opening, the tab resized) until
    // the user pans or zooms
    new ResizeObserver(() => {
      if (this._fitted && !this._touched) {
        this.fit();
      }
    }).observe(this._viewport);
  }

  /** The current scale and translation (browser tests read them). */
  get view(): { scale: number; x: number; y: number } {
    return { scale: this._scale, x: this._x, y: this._y };
  }

  async load(): Promise<void> {
    this._abort?.abort(); // the server stops that layout's Graphviz when the request goes away
    const abort = new AbortController();
    this._abort = abort;
    this._status.textContent = 'Laying out…';
    this.node.dataset.loading = 'true';
    let g: IGraph;
    try {
      g = await requestAPI<IGraph>(
        'graph',
        {
          path: this.path,
          max_nodes: OVERVIEW_NODES,
          collapse: [...this._collapse].map(String),
          expand: [...this._expand].map(String),
          focus: this._focus || undefined,
          filter: this._filter.value || undefined,
          reveal: this._reveal || undefined
        },
        { signal: abort.signal }
      );
    } catch (error: any) {
      if (abort.signal.aborted) {
        return;
      }
      delete this.node.dataset.loading;
      this._status.replaceChildren(el('span', 'ckptviz-error', error.message));
      if (!this._graph) {
        this._canvas.replaceChildren(el('div', 'ckptviz-error', error.message));
      }
      return; // the picture stays as it was
    }
    delete this.node.dataset.loading;
    this._graph = g;
    // the picture's own title says how many are drawn: the bar says the same
    this._status.textContent = g.title.split(': ').slice(1).join(': ') || g.title;
    if (!g.svg) {
      this._canvas.replaceChildren(el('div', 'ckptviz-error', g.svg_error ?? 'no picture'));
      return;
    }
    this._canvas.innerHTML = g.svg;
    const svg = this._canvas.querySelector('svg');
    if (svg) {
      this._size = [svg.width.baseVal.value || svg.clientWidth, svg.height.baseVal.value || svg.clientHeight];
    }
    const byId = new Map(g.nodes.map(n => [n.svg_id, n]));
    this._canvas.querySelectorAll<SVGGElement>('g.node').forEach(node => {
      const info = byId.get(node.id);
      if (!info) {
        return;
      }
      node.setAttribute('tabindex', '0');
      node.setAttribute('role', 'button');
      node.setAttribute('aria-label', info.path || '(root)');
      node.dataset.nodeId = String(info.id);
      node.onclick = ev => {
        ev.stopPropagation();
        if (this._dragged) {
          return;
        }
        if (info.id < 0) {
          this._toggle(info); // a stand-in: show its parent's other kids
        } else {
          this._inspect(info);
        }
      };
      node.ondblclick = ev => {
        ev.stopPropagation();
        this._toggle(info);
      };
      node.onkeydown = ev => {
        if (ev.key === 'Enter') {
          this._inspect(info);
        }
      };
    });
    const hit = g.revealed?.[0];
    const target = hit !== undefined ? g.nodes.find(n => n.id === hit) : undefined;
    const shown = g.nodes.find(n => n.id === this._inspected);
    if (shown && !target && !this._inspector.hidden) {
      this._inspect(shown); // what the inspector says follows the new picture (expanded, collapsed)
    }
    if (target) {
      this._centreOn(target);
      this._inspect(target);
    } else if (!this._touched || !this._inView()) {
      this.fit(); // a new picture fits the view, unless the user placed the old one and it shows
    }
  }

  /** Whether any of the picture shows in the viewport. */
  private _inView(): boolean {
    const svg = this._canvas.querySelector('svg');
    if (!svg) {
      return false;
    }
    const a = svg.getBoundingClientRect();
    const b = this._viewport.getBoundingClientRect();
    return a.right > b.left && a.left < b.right && a.bottom > b.top && a.top < b.bottom;
  }

  /** Scale and centre the picture so all of it shows (never above 1.5×). */
  fit(): void {
    const [w, h] = this._size;
    const vw = this._viewport.clientWidth;
    const vh = this._viewport.clientHeight;
    if (!w || !h || !vw || !vh) {
      return;
    }
    this._scale = Math.max(MIN_SCALE, Math.min(vw / w, vh / h, 1.5) * 0.97);
    this._x = (vw - w * this._scale) / 2;
    this._y = (vh - h * this._scale) / 2;
    this._fitted = true;
    this._touched = false;
    this._apply();
  }

  private _centreOn(n: IPlanNode): void {
    const node = this._canvas.querySelector<SVGGElement>(`[id="${n.svg_id}"]`);
    const svg = this._canvas.querySelector('svg');
    if (!node || !svg) {
      return;
    }
    this._scale = Math.max(this._scale, 0.8);
    this._apply();
    const box = node.getBoundingClientRect();
    const view = this._viewport.getBoundingClientRect();
    this._x += view.left + view.width / 2 - (box.left + box.width / 2);
    this._y += view.top + view.height / 2 - (box.top + box.height / 2);
    this._fitted = this._touched = true;
    this._apply();
  }

  private _inspect(n: IPlanNode): void {
    this._inspected = n.id;
    this._canvas.querySelectorAll('.ckptviz-picked').forEach(e => e.classList.remove('ckptviz-picked'));
    this._canvas.querySelector(`[id="${n.svg_id}"]`)?.classList.add('ckptviz-picked');
    const close = el('button', 'jp-Button jp-mod-minimal ckptviz-close', '×');
    close.setAttribute('aria-label', 'close the inspector');
    close.onclick = () => this._closeInspector();
    const parts: Node[] = [close, el('h3', `ckptviz-kind-${n.kind}`, n.name || n.path || '(root)')];
    const facts: string[] = [n.kind];
    if (n.path && n.path !== n.name) {
      facts.push(n.path);
    }
    if (n.dtype) {
      facts.push(`${n.dtype}${formatShape(n.shape ?? [])}`);
    }
    if (n.nbytes) {
      facts.push(formatBytes(n.nbytes));
    }
    if (n.collapsed) {
      facts.push(`collapsed: ${n.hidden_nodes} nodes, ${n.hidden_variables} variables, ${formatBytes(n.hidden_bytes)}`);
    }
    parts.push(el('div', 'ckptviz-dim', facts.join(' · ')));
    if (n.virtual) {
      parts.push(el('div', 'ckptviz-dim', n.tooltip)); // a group of layers or a stand-in: what it holds
    }
    const buttons = el('div', 'ckptviz-buttons');
    const button = (label: string, run: () => void): void => {
      const b = el('button', 'jp-Button jp-mod-styled', label);
      b.onclick = run;
      buttons.append(b);
    };
    button(n.collapsed ? 'Expand' : 'Collapse', () => this._toggle(n));
    if (n.id >= 0) {
      button('Focus', () => {
        this._focus = String(n.id);
        this._fitted = false;
        void this.load();
      });
    }
    parts.push(buttons);
    const preview = el('div', 'ckptviz-detail');
    parts.push(preview);
    this._inspector.replaceChildren(...parts);
    this._inspector.hidden = false;
    if (n.keys && n.keys.length === 1) {
      void showTensor(preview, this.path, n.keys[0]);
    }
  }

  private _closeInspector(): void {
    this._inspector.hidden = true;
    this._inspector.replaceChildren();
  }

  private _toggle(n: IPlanNode): void {
    const id = n.id < 0 ? standInParent(n.id) : n.id; // a stand-in opens its parent's other kids
    if (n.collapsed) {
      this._collapse.delete(id);
      this._expand.add(id);
    } else {
      this._expand.delete(id);
      this._collapse.add(id);
    }
    void this.load();
  }

  /** Zoom by `factor` keeping the point (`cx`, `cy`) of the viewport (default: its centre) still. */
  private _zoomAt(factor: number, cx?: number, cy?: number): void {
    const x = cx ?? this._viewport.clientWidth / 2;
    const y = cy ?? this._viewport.clientHeight / 2;
    const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this._scale * factor));
    this._x = x - ((x - this._x) * scale) / this._scale;
    this._y = y - ((y - this._y) * scale) / this._scale;
    this._scale = scale;
    this._touched = true;
    this._apply();
  }

  private _apply(): void {
    this._canvas.style.transform = `translate(${this._x}px, ${this._y}px) scale(${this._scale})`;
  }

  private _panAndZoom(): void {
    let drag: { x: number; y: number; sx: number; sy: number } | null = null;
    this._viewport.onpointerdown = ev => {
      drag = { x: ev.clientX - this._x, y: ev.clientY - this._y, sx: ev.clientX, sy: ev.clientY };
      this._dragged = false;
    };
    this._viewport.onpointermove = ev => {
      if (drag && ev.buttons) {
        if (Math.abs(ev.clientX - drag.sx) + Math.abs(ev.clientY - drag.sy) > 3) {
          this._dragged = this._touched = true;
        }
        this._x = ev.clientX - drag.x;
        this._y = ev.clientY - drag.y;
        this._apply();
      }
    };
    this._viewport.onpointerup = () => (drag = null);
    this._viewport.onwheel = ev => {
      ev.preventDefault();
      const r = this._viewport.getBoundingClientRect();
      this._zoomAt(Math.exp(-ev.deltaY * 0.0015), ev.clientX - r.left, ev.clientY - r.top);
    };
    this._viewport.onkeydown = ev => {
      const step = 40;
      const moves: Record<string, [number, number]> = {
        ArrowLeft: [step, 0],
        ArrowRight: [-step, 0],
        ArrowUp: [0, step],
        ArrowDown: [0, -step]
      };
      if (ev.key === '+' || ev.key === '=') {
        this._zoomAt(1.25);
      } else if (ev.key === '-') {
        this._zoomAt(0.8);
      } else if (ev.key === '0') {
        this.fit();
      } else if (moves[ev.key]) {
        this._x += moves[ev.key][0];
        this._y += moves[ev.key][1];
        this._touched = true;
        this._apply();
      }
    };
  }

  private _graph: IGraph | null = null;
  private _abort: AbortController | null = null;
  private _collapse = new Set<number>();
  private _expand = new Set<number>();
  private _focus = '';
  private _reveal = '';
  private _inspected: number | null = null;
  private _scale = 1;
  private _x = 0;
  private _y = 0;
  private _size: [number, number] = [0, 0];
  private _fitted = false;
  private _touched = false;
  private _dragged = false;
  private _find: HTMLInputElement;
  private _filter: HTMLInputElement;
  private _status: HTMLElement;
  private _viewport: HTMLElement;
  private _canvas: HTMLElement;
  private _inspector: HTMLElement;
}
