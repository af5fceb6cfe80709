import {
  buildTree,
  checkpointPathOf,
  diffPair,
  ckptCell,
  filterCheckpoints,
  formatBytes,
  formatShape,
  formatValue,
  ICheckpointInfo,
  IEntry,
  relativePath,
  unescapeName
} from '../src/model';

function entry(key: string, path: string | null, kind: IEntry['kind'] = 'variable'): IEntry {
  return { key, name: path ?? key, dtype: 'float32', shape: [2], nbytes: 8, shard: 0, node_id: 1, path, kind };
}

describe('buildTree', () => {
  it('nests entries by their node path and keeps kinds', () => {
    const tree = buildTree([
      entry('net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE', 'net/l1/kernel'),
      entry('net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE', 'net/l1/bias'),
      entry('net/l1/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE', 'net/l1/kernel/.OPTIMIZER_SLOT/optimizer/m', 'slot')
    ]);
    const l1 = tree.children[0].children[0];
    expect(tree.children.map(c => c.name)).toEqual(['net']);
    expect(l1.children.map(c => c.name)).toEqual(['bias', 'kernel']);
    const kernel = l1.children[1];
    expect(kernel.kind).toBe('variable');
    expect(kernel.entries.map(e => e.key)).toEqual(['net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE']);
    expect(kernel.children[0].children[0].children[0].kind).toBe('slot');
  });

  it('puts entries without a node under their key, and unescapes names', () => {
    const tree = buildTree([entry('a/b', null, null), entry('x.Sy/v', 'x.Sy')]);
    expect(tree.children.map(c => c.name)).toEqual(['a', 'x/y']);
    expect(tree.children[0].children[0].entries[0].key).toBe('a/b');
  });
});

describe('names and numbers', () => {
  it('unescapes TensorFlow local names', () => {
    expect(unescapeName('a..b.Sc')).toBe('a.b/c');
  });
  it('formats bytes, shapes and values', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatShape([1, 5])).toBe('[1, 5]');
    expect(formatShape([])).toBe(' scalar');
    expect(formatValue(0.1234567)).toBe('0.123457');
    expect(formatValue(3)).toBe('3');
    expect(formatValue('nan')).toBe('nan');
  });
});

describe('paths', () => {
  it('maps checkpoint files to the checkpoint they belong to', () => {
    expect(checkpointPathOf('run/ckpt-4.index')).toBe('run/ckpt-4');
    expect(checkpointPathOf('run/ckpt-4.data-00000-of-00002')).toBe('run/ckpt-4');
    expect(checkpointPathOf('run/checkpoint')).toBe('run');
    expect(checkpointPathOf('checkpoint')).toBe('');
    expect(checkpointPathOf('m/model.weights.h5')).toBe('m/model.weights.h5');
  });
  it('makes paths relative to a notebook directory', () => {
    expect(relativePath('', 'run/ckpt-4')).toBe('run/ckpt-4');
    expect(relativePath('run', 'run/ckpt-4')).toBe('ckpt-4');
    expect(relativePath('notebooks/a', 'run/ckpt-4')).toBe('../../run/ckpt-4');
  });
});

describe('filter and code', () => {
  const items = ['ckpt-2', 'ckpt-3', 'model.keras'].map(name => ({ name }) as ICheckpointInfo);
  it('keeps checkpoints matching every word', () => {
    expect(filterCheckpoints(items, 'CKPT 3').map(c => c.name)).toEqual(['ckpt-3']);
    expect(filterCheckpoints(items, '').length).toBe(3);
  });
  it('writes the notebook code with quoted paths', () => {
    expect(ckptCell('run/ckpt "4"')).toBe('%load_ext ckptviz\n%ckpt "run/ckpt \\"4\\""');
  });
});

describe('diffPair', () => {
  const info = (name: string, step: number | null) => ({ name, path: `run/${name}`, step }) as ICheckpointInfo;
  it('puts the earlier step first and needs exactly two', () => {
    expect(diffPair([info('ckpt-10', 10), info('ckpt-9', 9)])).toEqual(['run/ckpt-9', 'run/ckpt-10']);
    expect(diffPair([info('b', null), info('a', null)])).toEqual(['run/a', 'run/b']);
    expect(diffPair([info('a', 1)])).toBeNull();
  });
});
