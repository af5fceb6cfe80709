// The checkpoint viewer of a document tab: what double-clicking a `.index`, `.data-*`,
// `checkpoint`, `.weights.h5` or `.keras` file opens (a widget factory for those file types).
import {
  ABCWidgetFactory,
  DocumentModel,
  DocumentRegistry,
  DocumentWidget,
  TextModelFactory
} from '@jupyterlab/docregistry';
import { Contents } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';
import { checkpointPathOf } from './model';
import { el } from './tensor';
import { showTree } from './tree';

export const FACTORY = 'Checkpoint Viewer';

export const FILE_TYPES: Partial<DocumentRegistry.IFileType>[] = [
  { name: 'ckptviz-index', displayName: 'Checkpoint index', extensions: ['.index'], pattern: '\\.index$' },
  { name: 'ckptviz-data', displayName: 'Checkpoint data shard', extensions: [], pattern: '\\.data-\\d{5,}-of-\\d{5,}$' },
  { name: 'ckptviz-state', displayName: 'Checkpoint state', extensions: [], pattern: '(^|/)checkpoint$' },
  { name: 'ckptviz-keras-weights', displayName: 'Keras weights', extensions: ['.weights.h5'], pattern: '\\.weights\\.h5$' },
  { name: 'ckptviz-keras', displayName: 'Keras model', extensions: ['.keras'], pattern: '\\.keras$' },
  { name: 'ckptviz-v1', displayName: 'TF1 V1 checkpoint', extensions: ['.ckpt'], pattern: '(\\.ckpt|-\\d{5}-of-\\d{5})$' }
].map(t => ({ ...t, fileFormat: null, contentType: 'file', mimeTypes: ['application/octet-stream'] }));

/** A model JupyterLab never saves: its context's `canSave` is false for a collaborative model,
 *  so opening a checkpoint file never copies it into `.ipynb_checkpoints/` (a 293 MiB data shard
 *  used to be copied on open). */
class NeverSavedModel extends DocumentModel {
  get collaborative(): boolean {
    return true;
  }
}

/** Documents whose bytes are never fetched nor copied: the viewer asks the server extension, so
 *  opening a 400 MB data shard costs what opening its `.index` does (`fileFormat: null` means no
 *  content). */
export class MetadataOnlyModelFactory extends TextModelFactory {
  createNew(options: DocumentRegistry.IModelOptions<any> = {}): DocumentModel {
    return new NeverSavedModel({ ...options, collaborationEnabled: false });
  }

  get name(): string {
    return MODEL;
  }

  get contentType(): Contents.ContentType {
    return 'file';
  }

  get fileFormat(): Contents.FileFormat {
    return null;
  }
}

export const MODEL = 'ckptviz-metadata-only';

class CheckpointContent extends Widget {
  constructor(path: string, onGraph: (path: string) => void) {
    super();
    this.addClass('ckptviz-viewer');
    const checkpoint = checkpointPathOf(path);
    const head = el('div', 'ckptviz-buttons');
    const title = el('h2', '', checkpoint || '/');
    const graph = el('button', 'jp-Button jp-mod-styled ckptviz-button', 'Open graph');
    graph.onclick = () => onGraph(checkpoint);
    head.append(graph);
    const tree = el('div', 'ckptviz-item-tree');
    const detail = el('div', 'ckptviz-detail');
    const columns = el('div', 'ckptviz-viewer-columns');
    columns.append(tree, detail);
    this.node.append(title, head, columns);
    void showTree(tree, detail, checkpoint);
  }
}

export class CheckpointViewerFactory extends ABCWidgetFactory<DocumentWidget<CheckpointContent>> {
  constructor(
    options: DocumentRegistry.IWidgetFactoryOptions,
    private onGraph: (path: string) => void
  ) {
    super(options);
  }

  protected createNewWidget(context: DocumentRegistry.Context): DocumentWidget<CheckpointContent> {
    const content = new CheckpointContent(context.path, this.onGraph);
    const widget = new DocumentWidget({ content, context });
    widget.title.label = context.path.split('/').pop() ?? context.path;
    return widget;
  }
}
