// The graph of a checkpoint in a main-area tab: the server's SVG of the render plan, with
// pan (drag), zoom (wheel, +/-), click-to-inspect, and expand/collapse/focus that re-plan.
import { Widget } from '@lumino/widgets';
import { formatBytes, formatShape, IGraph, IPlanNode } from './model';
import { requestAPI } from './request';
import { el, showTensor } from './tensor';

export class GraphView extends Widget {
  constructor(readonly path: string) {
    super();
    this.addClass('ckptviz-graph');
    this.id = `ckptviz-graph-${encodeURIComponent(path)}`;
    this.title.label = `Graph: ${path.split('/').pop() || path}`;
    this.title.caption = path;
    this.title.closable = true;
    const bar = el('div', 'ckptviz-graph-bar');
    this._filter = el('input', 'jp-mod-styled');
    this._filter.placeholder = 'filter (regex on paths)';
    this._filter.setAttribute('aria-label', 'filter');
    this._filter.onchange = () => void this.load();
    const reset = el('button', 'jp-Button jp-mod-styled', 'Reset');
    reset.onclick = () => {
      this._collapse.clear();
      this._expand.clear();
      this._focus = '';
      this._filter.value = '';
      void this.load();
    };
    const zoomIn = el('button', 'jp-Button jp-mod-styled', '+');
    zoomIn.setAttribute('aria-label', 'zoom in');
    zoomIn.onclick = () => this._zoom(1.25);
    const zoomOut = el('button', 'jp-Button jp-mod-styled', '−');
    zoomOut.setAttribute('aria-label', 'zoom out');
    zoomOut.onclick = () => this._zoom(0.8);
    this._status = el('span', 'ckptviz-dim');
    bar.append(this._filter, reset, zoomIn, zoomOut, this._status);
    this._viewport = el('div', 'ckptviz-graph-viewport');
    this._viewport.tabIndex = 0;
    this._canvas = el('div', 'ckptviz-graph-canvas');
    this._viewport.append(this._canvas);
    this._inspector = el('div', 'ckptviz-graph-inspector');
    const main = el('div', 'ckptviz-graph-main');
    main.append(this._viewport, this._inspector);
    this.node.append(bar, main);
    this._panAndZoom();
  }

  async load(): Promise<void> {
    this._status.textContent = 'Laying out…';
    try {
      this._graph = await requestAPI<IGraph>('graph', {
        path: this.path,
        collapse: [...this._collapse].map(String),
        expand: [...this._expand].map(String),
        focus: this._focus || undefined,
        filter: this._filter.value || undefined
      });
    } catch (error: any) {
      this._status.textContent = '';
      this._canvas.replaceChildren(el('div', 'ckptviz-error', error.message));
      return;
    }
    const g = this._graph;
    this._status.textContent = `${g.nodes.length} of ${g.total} nodes drawn`;
    if (!g.svg) {
      this._canvas.replaceChildren(el('div', 'ckptviz-error', g.svg_error ?? 'no picture'));
      return;
    }
    this._canvas.innerHTML = g.svg;
    const byId = new Map(g.nodes.map(n => [n.svg_id, n]));
    this._canvas.querySelectorAll<SVGGElement>('g.node').forEach(node => {
      const info = byId.get(node.id);
      if (!info) {
        return;
      }
      node.setAttribute('tabindex', '0');
      node.setAttribute('role', 'button');
      node.setAttribute('aria-label', info.path || '(root)');
      node.onclick = ev => {
        ev.stopPropagation();
        this._inspect(info);
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
  }

  private _inspect(n: IPlanNode): void {
    this._canvas.querySelectorAll('.ckptviz-picked').forEach(e => e.classList.remove('ckptviz-picked'));
    this._canvas.querySelector(`[id="${n.svg_id}"]`)?.classList.add('ckptviz-picked');
    const parts: Node[] = [el('h3', `ckptviz-kind-${n.kind}`, n.name || n.path || '(root)')];
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
    const buttons = el('div', 'ckptviz-buttons');
    const button = (label: string, run: () => void): void => {
      const b = el('button', 'jp-Button jp-mod-styled', label);
      b.onclick = run;
      buttons.append(b);
    };
    if (n.id < 1e9) {
      button(n.collapsed ? 'Expand' : 'Collapse', () => this._toggle(n));
      button('Focus', () => {
        this._focus = n.path;
        void this.load();
      });
    }
    parts.push(buttons);
    const preview = el('div', 'ckptviz-detail');
    parts.push(preview);
    this._inspector.replaceChildren(...parts);
    if (n.keys && n.keys.length === 1) {
      void showTensor(preview, this.path, n.keys[0]);
    }
  }

  private _toggle(n: IPlanNode): void {
    if (n.collapsed) {
      this._collapse.delete(n.id);
      this._expand.add(n.id);
    } else {
      this._expand.delete(n.id);
      this._collapse.add(n.id);
    }
    void this.load();
  }

  private _zoom(factor: number): void {
    this._scale = Math.min(8, Math.max(0.1, this._scale * factor));
    this._apply();
  }

  private _apply(): void {
    this._canvas.style.transform = `translate(${this._x}px, ${this._y}px) scale(${this._scale})`;
  }

  private _panAndZoom(): void {
    let drag: { x: number; y: number } | null = null;
    this._viewport.onpointerdown = ev => {
      drag = { x: ev.clientX - this._x, y: ev.clientY - this._y };
    };
    this._viewport.onpointermove = ev => {
      if (drag && ev.buttons) {
        this._x = ev.clientX - drag.x;
        this._y = ev.clientY - drag.y;
        this._apply();
      }
    };
    this._viewport.onpointerup = () => (drag = null);
    this._viewport.onwheel = ev => {
      ev.preventDefault();
      this._zoom(ev.deltaY < 0 ? 1.1 : 0.9);
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
        this._zoom(1.25);
      } else if (ev.key === '-') {
        this._zoom(0.8);
      } else if (moves[ev.key]) {
        this._x += moves[ev.key][0];
        this._y += moves[ev.key][1];
        this._apply();
      }
    };
  }

  private _graph: IGraph | null = null;
  private _collapse = new Set<number>();
  private _expand = new Set<number>();
  private _focus = '';
  private _scale = 1;
  private _x = 0;
  private _y = 0;
  private _filter: HTMLInputElement;
  private _status: HTMLElement;
  private _viewport: HTMLElement;
  private _canvas: HTMLElement;
  private _inspector: HTMLElement;
}
