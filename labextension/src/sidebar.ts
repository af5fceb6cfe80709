// The left-sidebar panel: the checkpoints of a directory, with a breadcrumb and the directory's
// subdirectories to navigate from the panel itself (the file browser follows, and the panel
// follows the file browser), and a filter; nothing is requested while the panel is hidden.
import { Message } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import { diffPair, filterCheckpoints, formatBytes, ICheckpointInfo, IListing } from './model';
import { requestAPI } from './request';
import { el } from './tensor';
import { showTree } from './tree';

export interface ISidebarActions {
  openGraph(path: string): void;
  openDiff(a: string, b: string): void;
  openTimeline(directory: string): void;
  copyRestoreCode(info: ICheckpointInfo): void;
  insertCell(info: ICheckpointInfo): void;
  navigate(directory: string): void;
}

export class CheckpointSidebar extends Widget {
  constructor(private actions: ISidebarActions) {
    super();
    this.id = 'ckptviz-sidebar';
    this.addClass('ckptviz-sidebar');
    this.title.caption = 'Checkpoints';
    const header = el('div', 'ckptviz-header');
    this._where = el('div', 'ckptviz-where');
    this._filter = el('input', 'ckptviz-filter jp-mod-styled');
    this._filter.type = 'search';
    this._filter.placeholder = 'Filter checkpoints';
    this._filter.setAttribute('aria-label', 'Filter checkpoints');
    this._filter.oninput = () => this._render();
    const refresh = el('button', 'jp-Button jp-mod-minimal ckptviz-refresh', '⟳');
    refresh.title = 'Refresh';
    refresh.setAttribute('aria-label', 'Refresh');
    refresh.onclick = () => void this.refresh();
    this._runButtons = el('div', 'ckptviz-buttons');
    header.append(this._where, this._filter, refresh, this._runButtons);
    this._list = el('div', 'ckptviz-list');
    this._list.setAttribute('aria-live', 'polite');
    this._detail = el('div', 'ckptviz-detail');
    this.node.append(header, this._list, this._detail);
  }

  /** The checkpoint whose buttons were used last: what the palette's commands act on. */
  get current(): ICheckpointInfo | null {
    return this._current;
  }

  readonly currentChanged = new Signal<this, ICheckpointInfo | null>(this);

  /** The directory to list (relative to the server root); listed when the panel is visible. */
  set directory(path: string) {
    if (path === this._directory && !this._stale) {
      return;
    }
    this._directory = path;
    this._stale = true;
    if (this.isVisible) {
      void this.refresh();
    }
  }

  get directory(): string {
    return this._directory;
  }

  /** How many listings were requested (browser tests check that hiding stops them). */
  requests = 0;

  async refresh(): Promise<void> {
    this._stale = false;
    const directory = this._directory;
    this._renderWhere();
    this._list.replaceChildren(el('div', 'ckptviz-loading', 'Loading checkpoints…'));
    this.requests++;
    try {
      const listing = await requestAPI<IListing>('checkpoints', { path: directory });
      if (directory !== this._directory) {
        return; // the user moved on
      }
      this._items = listing.checkpoints;
      this._directories = listing.directories ?? [];
      this._isRun = (listing.state?.all.length ?? 0) >= 2;
      this._error = null;
    } catch (error: any) {
      this._items = [];
      this._error = error.message;
    }
    this._render();
  }

  protected onAfterShow(msg: Message): void {
    if (this._stale) {
      void this.refresh();
    }
  }

  private _renderRunButtons(): void {
    const buttons: HTMLElement[] = [];
    const chosen = this._items.filter(i => this._chosen.has(i.path));
    const pair = diffPair(chosen);
    if (pair) {
      const diff = el('button', 'jp-Button jp-mod-styled ckptviz-button ckptviz-diff-button', 'Diff selected');
      diff.onclick = () => this.actions.openDiff(pair[0], pair[1]);
      buttons.push(diff);
    } else if (this._items.length >= 2) {
      buttons.push(el('span', 'ckptviz-dim', 'tick two checkpoints to diff them'));
    }
    if (this._isRun) {
      const run = el('button', 'jp-Button jp-mod-styled ckptviz-button', 'Timeline');
      run.onclick = () => this.actions.openTimeline(this._directory);
      buttons.push(run);
    }
    this._runButtons.replaceChildren(...buttons);
  }

  /** `/ › run › ckpts`: each part opens that directory. */
  private _renderWhere(): void {
    const parts = this._directory.split('/').filter(Boolean);
    const crumb = (label: string, path: string): HTMLElement => {
      const a = el('span', 'ckptviz-crumb', label);
      a.tabIndex = 0;
      a.setAttribute('role', 'link');
      a.dataset.path = path;
      a.onclick = () => this.actions.navigate(path);
      a.onkeydown = ev => {
        if (ev.key === 'Enter') {
          this.actions.navigate(path);
        }
      };
      return a;
    };
    const items: Node[] = [crumb('/', '')];
    parts.forEach((part, i) => {
      items.push(el('span', 'ckptviz-dim', ' › '), crumb(part, parts.slice(0, i + 1).join('/')));
    });
    this._where.replaceChildren(...items);
    this._where.title = `/${this._directory}`;
  }

  private _render(): void {
    this._chosen = new Set([...this._chosen].filter(p => this._items.some(i => i.path === p)));
    this._renderRunButtons();
    if (this._error) {
      this._list.replaceChildren(el('div', 'ckptviz-error', this._error));
      return;
    }
    const shown = filterCheckpoints(this._items, this._filter.value);
    const words = this._filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    const directories = this._directories.filter(d => words.every(w => d.toLowerCase().includes(w)));
    const rows: HTMLElement[] = directories.map(name => {
      const path = this._directory ? `${this._directory}/${name}` : name;
      const row = el('div', 'ckptviz-directory', `📁 ${name}`);
      row.tabIndex = 0;
      row.setAttribute('role', 'link');
      row.dataset.path = path;
      row.title = `open ${path}`;
      row.onclick = () => this.actions.navigate(path);
      row.onkeydown = ev => {
        if (ev.key === 'Enter') {
          this.actions.navigate(path);
        }
      };
      return row;
    });
    if (!this._items.length) {
      rows.unshift(
        el(
          'div',
          'ckptviz-empty',
          directories.length
            ? 'No checkpoints in this directory: open one of its directories below, or navigate in the file browser.'
            : 'No checkpoints in this directory, and no directories below it.'
        )
      );
    } else if (!shown.length) {
      rows.unshift(el('div', 'ckptviz-empty', 'No checkpoint matches the filter.'));
    }
    this._list.replaceChildren(...shown.map(info => this._item(info)), ...rows);
  }

  private _item(info: ICheckpointInfo): HTMLElement {
    const item = el('div', 'ckptviz-item');
    item.dataset.path = info.path;
    const head = el('div', 'ckptviz-item-head');
    head.tabIndex = 0;
    head.setAttribute('role', 'button');
    head.setAttribute('aria-expanded', 'false');
    const meta = [info.format, formatBytes(info.size)];
    if (info.step !== null) {
      meta.push(`step ${info.step}`);
    }
    if (info.time) {
      meta.push(new Date(info.time * 1000).toLocaleString());
    }
    const choose = el('input', 'ckptviz-choose');
    choose.type = 'checkbox';
    choose.checked = this._chosen.has(info.path);
    choose.setAttribute('aria-label', `select ${info.name} for a diff`);
    choose.onclick = ev => ev.stopPropagation();
    choose.onchange = () => {
      if (choose.checked) {
        this._chosen.add(info.path);
      } else {
        this._chosen.delete(info.path);
      }
      this._renderRunButtons();
    };
    head.append(
      choose,
      el('span', 'ckptviz-caret'),
      el('span', 'ckptviz-name', info.name),
      el('span', 'ckptviz-dim', ` ${meta.join(' · ')}${info.latest ? ' · latest' : ''}`)
    );
    const body = el('div', 'ckptviz-item-body');
    const buttons = el('div', 'ckptviz-buttons');
    const button = (label: string, run: () => void): HTMLButtonElement => {
      const b = el('button', 'jp-Button jp-mod-styled ckptviz-button', label);
      b.onclick = ev => {
        ev.stopPropagation();
        this._setCurrent(info);
        run();
      };
      return b;
    };
    buttons.append(
      button('Open graph', () => this.actions.openGraph(info.path)),
      button('Copy restore code', () => this.actions.copyRestoreCode(info)),
      button('Insert %ckpt cell', () => this.actions.insertCell(info))
    );
    const tree = el('div', 'ckptviz-item-tree');
    body.append(buttons, tree);
    body.hidden = true;
    if (info.error) {
      head.append(el('div', 'ckptviz-error', info.error));
    }
    let loaded = false;
    const toggle = (): void => {
      body.hidden = !body.hidden;
      head.setAttribute('aria-expanded', String(!body.hidden));
      this._setCurrent(info);
      if (!body.hidden && !loaded) {
        loaded = true;
        void showTree(tree, this._detail, info.path);
      }
    };
    head.onclick = toggle;
    head.onkeydown = ev => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        toggle();
      }
    };
    item.append(head, body);
    return item;
  }

  private _setCurrent(info: ICheckpointInfo): void {
    this._current = info;
    this.currentChanged.emit(info);
  }

  private _directory = '';
  private _directories: string[] = [];
  private _chosen = new Set<string>();
  private _isRun = false;
  private _runButtons: HTMLElement;
  private _stale = true;
  private _items: ICheckpointInfo[] = [];
  private _error: string | null = null;
  private _current: ICheckpointInfo | null = null;
  private _where: HTMLElement;
  private _filter: HTMLInputElement;
  private _list: HTMLElement;
  private _detail: HTMLElement;
}
