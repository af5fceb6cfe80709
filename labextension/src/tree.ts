// The object tree of one checkpoint: nodes coloured by kind, variables with dtype and shape;
// clicking (or Enter on) a variable shows its preview.
import { buildTree, formatBytes, formatShape, IEntries, IEntry, ITreeNode } from './model';
import { requestAPI } from './request';
import { el, showTensor } from './tensor';

function entryRow(entry: IEntry, name: string, onPick: (e: IEntry, row: HTMLElement) => void): HTMLElement {
  const row = el('li', `ckptviz-entry ckptviz-kind-${entry.kind ?? 'other'}`);
  row.tabIndex = 0;
  row.setAttribute('role', 'treeitem');
  row.dataset.key = entry.key;
  row.title = `${entry.key}\n${formatBytes(entry.nbytes)}`;
  row.append(
    el('span', 'ckptviz-name', name),
    el('span', 'ckptviz-dim', ` ${entry.dtype}${formatShape(entry.shape)}`)
  );
  row.onclick = ev => {
    ev.stopPropagation();
    onPick(entry, row);
  };
  row.onkeydown = ev => {
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      onPick(entry, row);
    }
  };
  return row;
}

function nodeList(node: ITreeNode, onPick: (e: IEntry, row: HTMLElement) => void, depth: number): HTMLElement {
  const list = el('ul', 'ckptviz-tree');
  list.setAttribute('role', depth ? 'group' : 'tree');
  for (const child of node.children) {
    const only = child.entries.length === 1 && child.children.length === 0;
    if (only) {
      list.append(entryRow(child.entries[0], child.name, onPick));
      continue;
    }
    const item = el('li', `ckptviz-node ckptviz-kind-${child.kind}`);
    item.setAttribute('role', 'treeitem');
    const label = el('div', 'ckptviz-node-label');
    label.tabIndex = 0;
    label.append(el('span', 'ckptviz-caret'), el('span', 'ckptviz-name', child.name));
    // A variable with slots: its own value is shown on its row, its slots below it.
    const own = child.entries.length === 1 ? child.entries[0] : null;
    if (own) {
      label.dataset.key = own.key;
      label.title = own.key;
      label.append(el('span', 'ckptviz-dim', ` ${own.dtype}${formatShape(own.shape)}`));
    }
    item.append(label);
    const open = depth < 1;
    item.setAttribute('aria-expanded', String(open));
    let body: HTMLElement | null = null;
    const toggle = (): void => {
      const expanded = item.getAttribute('aria-expanded') === 'true';
      item.setAttribute('aria-expanded', String(!expanded));
      if (!expanded && !body) {
        body = nodeList(child, onPick, depth + 1);
        for (const e of own ? [] : child.entries) {
          body.prepend(entryRow(e, e.key.split('/').pop() ?? e.key, onPick));
        }
        item.append(body);
      }
    };
    if (open) {
      item.setAttribute('aria-expanded', 'false');
      toggle();
    }
    const activate = (): void => {
      if (own) {
        onPick(own, label);
      }
      toggle();
    };
    label.onclick = ev => {
      ev.stopPropagation();
      activate();
    };
    label.onkeydown = ev => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        activate();
      }
    };
    list.append(item);
  }
  return list;
}

const PAGE = 1000;

/** Fill `host` with the tree of the checkpoint at `path`, a page of entries at a time (a 50 000-key
 *  checkpoint lists its first 1000, then 1000 more on each click, or those a search matches); the
 *  preview goes into `detail`. */
export async function showTree(host: HTMLElement, detail: HTMLElement, path: string): Promise<void> {
  host.replaceChildren(el('div', 'ckptviz-loading', 'Loading…'));
  let picked: HTMLElement | null = null;
  const pick = (entry: IEntry, row: HTMLElement): void => {
    picked?.classList.remove('jp-mod-selected');
    picked = row;
    row.classList.add('jp-mod-selected');
    void showTensor(detail, path, entry.key);
  };
  const summary = el('div', 'ckptviz-summary');
  const search = el('input', 'jp-mod-styled ckptviz-key-search');
  search.type = 'search';
  search.placeholder = 'find keys';
  search.setAttribute('aria-label', 'find keys');
  const note = el('div', 'ckptviz-dim ckptviz-page-note');
  const more = el('button', 'jp-Button jp-mod-styled ckptviz-button ckptviz-more');
  const body = el('div', 'ckptviz-tree-body');
  let loaded: IEntry[] = [];
  let total = 0;
  let match = '';
  const page = async (fresh: boolean): Promise<string | null> => {
    let data: IEntries;
    try {
      data = await requestAPI<IEntries>('entries', { path, limit: PAGE, offset: fresh ? 0 : loaded.length, match });
    } catch (error: any) {
      return error.message;
    }
    loaded = fresh ? data.entries : [...loaded, ...data.entries];
    total = data.total;
    summary.textContent = `${data.tensors} tensors, ${formatBytes(data.nbytes)}, ${data.object_based ? 'object-based' : 'name-based'}`;
    if (data.graph_error) {
      summary.append(el('div', 'ckptviz-error', data.graph_error));
    }
    body.replaceChildren(nodeList(buildTree(loaded), pick, 0));
    const what = match ? `keys matching “${match}”` : 'entries';
    note.textContent = total > loaded.length ? `${loaded.length} of ${total} ${what} listed` : `${total} ${what}`;
    more.textContent = `Show ${Math.min(PAGE, total - loaded.length)} more`;
    more.style.display = total > loaded.length ? '' : 'none';
    return null;
  };
  more.onclick = () => void page(false);
  search.onchange = () => {
    match = search.value.trim();
    void page(true);
  };
  const error = await page(true);
  if (error !== null) {
    host.replaceChildren(el('div', 'ckptviz-error', error));
    return;
  }
  host.replaceChildren(summary, search, note, body, more);
}
