// The data the panel shows, and the pure functions that shape it (tested by jest, no DOM).

export type Kind = 'optimizer' | 'variable' | 'slot' | 'other';

export interface ICheckpointInfo {
  name: string;
  path: string;
  format: 'bundle' | 'v1' | 'keras' | 'savedmodel';
  size: number;
  mtime: number;
  step: number | null;
  time: number | null;
  latest: boolean;
  error: string | null;
}

export interface IListing {
  path: string;
  checkpoints: ICheckpointInfo[];
  directories?: string[];
  state: { latest: string | null; all: string[] } | null;
  state_error: string | null;
}

export interface IEntry {
  key: string;
  name: string;
  dtype: string;
  shape: number[];
  nbytes: number;
  shard: number;
  node_id: number | null;
  path: string | null;
  kind: Kind | null;
}

export interface IEntries {
  path: string;
  format: string;
  object_based: boolean;
  tensors: number;
  nbytes: number;
  total: number;
  offset: number;
  limit: number;
  entries: IEntry[];
  graph_error: string | null;
  restore_code: string | null;
}

/** The node whose other kids a stand-in (id `-1 - parent`) stands for. */
export function standInParent(id: number): number {
  return -1 - id;
}

export interface IHistogram {
  counts: number[];
  edges: number[];
}

export interface ITensor {
  path: string;
  key: string;
  dtype: string;
  shape: number[];
  nbytes: number;
  slice: string;
  /** The first values of the tensor or slice (the server's one preview rule): `verified` when a
   *  checksum covering them was checked; `note` says why not, in words for the user. */
  preview: {
    shape: number[];
    values: (number | string | boolean)[];
    truncated: boolean;
    verified: boolean;
    read_bytes: number;
    note: string | null;
  };
  stats: {
    size: number;
    finite: number;
    min: number | null;
    max: number | null;
    mean: number | null;
    std: number | null;
    nan: number;
    inf: number;
    zeros: number;
    histogram: IHistogram | null;
  } | null;
  stats_skipped: boolean;
}

export interface IPlanNode {
  id: number; // a node id; a group of layers from the graph's size on; a stand-in is -1 - parent
  svg_id: string;
  path: string;
  display_name?: string;
  key_path?: string;
  virtual?: boolean; // a group of layers or a stand-in, not an object of the checkpoint
  name?: string;
  kind: Kind;
  label: string;
  tooltip: string;
  collapsed: boolean;
  hidden_nodes: number;
  hidden_variables: number;
  hidden_bytes: number;
  dtype?: string | null;
  shape?: number[] | null;
  nbytes?: number;
  keys?: string[];
}

export interface IGraph {
  path: string;
  title: string;
  total: number;
  object_based: boolean;
  nodes: IPlanNode[];
  edges: { parent: number; label: string; child: number }[];
  revealed?: number[];
  svg: string | null;
  svg_error: string | null;
}

/** One row of the object tree: a node path segment, with the entries held right there. */
export interface ITreeNode {
  name: string;
  path: string;
  kind: Kind;
  entries: IEntry[];
  children: ITreeNode[];
}

/** The object tree of a checkpoint from its entries' node paths (`net/l1/kernel`). */
export function buildTree(entries: IEntry[]): ITreeNode {
  const root: ITreeNode = { name: '', path: '', kind: 'other', entries: [], children: [] };
  const index = new Map<string, ITreeNode>([['', root]]);
  for (const entry of entries) {
    const path = entry.path ?? entry.key;
    const parts = path ? path.split('/') : [];
    let node = root;
    let sofar = '';
    for (const part of parts) {
      sofar = sofar ? `${sofar}/${part}` : part;
      let next = index.get(sofar);
      if (!next) {
        next = { name: unescapeName(part), path: sofar, kind: 'other', entries: [], children: [] };
        index.set(sofar, next);
        node.children.push(next);
      }
      node = next;
    }
    node.entries.push(entry);
    if (entry.kind) {
      node.kind = entry.kind;
    }
  }
  const sort = (n: ITreeNode): void => {
    n.children.sort((a, b) => a.name.localeCompare(b.name));
    n.children.forEach(sort);
  };
  sort(root);
  return root;
}

/** TensorFlow's escaping of a local name in a key: `..` is `.`, `.S` is `/`. */
export function unescapeName(segment: string): string {
  return segment.replace(/\.\.|\.S/g, pair => (pair === '..' ? '.' : '/'));
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

export function formatShape(shape: number[]): string {
  return shape.length ? `[${shape.join(', ')}]` : ' scalar';
}

/** The checkpoints whose name contains every word of `filter`, case-insensitively. */
export function filterCheckpoints(items: ICheckpointInfo[], filter: string): ICheckpointInfo[] {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  return items.filter(c => words.every(w => c.name.toLowerCase().includes(w)));
}

const DATA_FILE = /\.data-\d{5,}-of-\d{5,}$/;

/** The checkpoint a file of the file browser stands for: `.index` and `.data-*` name their
 *  prefix, a `checkpoint` state file its directory, Keras files themselves. */
export function checkpointPathOf(file: string): string {
  if (file.endsWith('.index')) {
    return file.slice(0, -'.index'.length);
  }
  if (DATA_FILE.test(file)) {
    return file.replace(DATA_FILE, '');
  }
  const slash = file.lastIndexOf('/');
  if (file.slice(slash + 1) === 'checkpoint') {
    return slash < 0 ? '' : file.slice(0, slash);
  }
  return file;
}

/** `path` (relative to the server root) as seen from the directory `from`. */
export function relativePath(from: string, path: string): string {
  const a = from.split('/').filter(Boolean);
  const b = path.split('/').filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) {
    i++;
  }
  const out = [...Array(a.length - i).fill('..'), ...b.slice(i)].join('/');
  return out || '.';
}

function pyString(text: string): string {
  return JSON.stringify(text);
}

/** The notebook cell that shows the same checkpoint with the `%ckpt` magic. */
export function ckptCell(path: string): string {
  return `%load_ext ckptviz\n%ckpt ${pyString(path)}`;
}

/** Numbers as a preview shows them: 6 significant digits, strings as they came. */
export function formatValue(value: number | string | boolean): string {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? String(value) : value.toPrecision(6).replace(/\.?0+(e|$)/, '$1');
  }
  return String(value);
}

export interface IDiffRow {
  key: string;
  name?: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  dtype_a: string | null;
  dtype_b: string | null;
  shape_a: number[] | null;
  shape_b: number[] | null;
  max_abs_diff?: number | null;
  relative_change?: number | null;
  fraction_changed: number | null;
}

export interface IDiff {
  a: string;
  b: string;
  equal: boolean;
  counts: Record<'added' | 'removed' | 'changed' | 'unchanged', number>;
  total: number;
  rows: IDiffRow[];
  rollups: {
    path: string;
    status: string;
    params: number;
    fraction_changed: number | null;
    relative_change: number | null;
    frozen: boolean;
    exploded: boolean;
  }[];
}

export interface ITimeline {
  path: string;
  steps: { prefix: string; step: number; timestamp: number | null }[];
  variables: Record<
    string,
    { edges: number[] | null; series: ({ mean: number | null; std: number | null; relative_change: number | null } | null)[] }
  >;
  total_variables: number;
  truncated: boolean;
}

/** The two checkpoints a diff compares: the older (by step, else by name) first. */
export function diffPair(items: ICheckpointInfo[]): [string, string] | null {
  if (items.length !== 2) {
    return null;
  }
  const [x, y] = [...items].sort((p, q) => (p.step ?? 0) - (q.step ?? 0) || p.name.localeCompare(q.name));
  return [x.path, y.path];
}
