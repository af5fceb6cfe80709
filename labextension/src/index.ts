// The JupyterLab plugin: the sidebar panel, the graph tab, the document viewer and the commands.
import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Clipboard, ICommandPalette, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';
import { GraphView } from './graph';
import { DiffView, TimelineView } from './runs';
import { ckptCell, ICheckpointInfo, IEntries, relativePath } from './model';
import { requestAPI } from './request';
import { CheckpointSidebar } from './sidebar';
import { CheckpointViewerFactory, FACTORY, FILE_TYPES, MetadataOnlyModelFactory, MODEL } from './viewer';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">
<g class="jp-icon3" fill="#616161"><circle cx="5" cy="12" r="2.6"/><circle cx="18" cy="5" r="2.6"/>
<circle cx="18" cy="19" r="2.6"/><path d="M7 11 16 6l.7 1.2-9 5zM7 13l9 5-.7 1.2-9-5z"/></g></svg>`;

export const checkpointIcon = new LabIcon({ name: 'ckptviz:checkpoint', svgstr: ICON_SVG });

namespace CommandIDs {
  export const openGraph = 'ckptviz:open-graph';
  export const copyRestore = 'ckptviz:copy-restore-code';
  export const insertCell = 'ckptviz:insert-ckpt-cell';
  export const showPanel = 'ckptviz:show-panel';
  export const refresh = 'ckptviz:refresh';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'ckptviz:plugin',
  description: 'TensorFlow checkpoints in a sidebar panel, a graph tab and a document viewer.',
  autoStart: true,
  requires: [ILabShell],
  optional: [IDefaultFileBrowser, ICommandPalette, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    browser: IDefaultFileBrowser | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null
  ) => {
    const graphs = new WidgetTracker<MainAreaWidget<GraphView>>({ namespace: 'ckptviz-graph' });

    const openGraph = (path: string): void => {
      const existing = graphs.find(w => w.content.path === path);
      if (existing) {
        shell.activateById(existing.id);
        return;
      }
      const content = new GraphView(path);
      const widget = new MainAreaWidget({ content });
      widget.id = content.id;
      widget.title.label = content.title.label;
      widget.title.icon = checkpointIcon;
      widget.title.closable = true;
      void graphs.add(widget);
      shell.add(widget, 'main');
      shell.activateById(widget.id);
      void content.load();
    };

    const openTab = (content: DiffView | TimelineView): void => {
      const existing = shell.widgets('main');
      for (const w of existing) {
        if (w.id === content.id) {
          shell.activateById(w.id);
          content.dispose();
          return;
        }
      }
      const widget = new MainAreaWidget({ content });
      widget.id = content.id;
      widget.title.label = content.title.label;
      widget.title.icon = checkpointIcon;
      widget.title.closable = true;
      shell.add(widget, 'main');
      shell.activateById(widget.id);
      void content.load();
    };

    const codePath = (info: ICheckpointInfo): string => {
      const notebook = notebooks?.currentWidget;
      return notebook ? relativePath(PathExt.dirname(notebook.context.path), info.path) : info.path;
    };

    const sidebar = new CheckpointSidebar({
      openGraph,
      openDiff: (a, b) => openTab(new DiffView(a, b)),
      openTimeline: directory => openTab(new TimelineView(directory)),
      copyRestoreCode: info => void app.commands.execute(CommandIDs.copyRestore, { path: info.path, format: info.format }),
      insertCell: info => void app.commands.execute(CommandIDs.insertCell, { path: info.path }),
      navigate: directory => {
        if (browser) {
          void browser.model.cd(`/${directory}`); // the panel follows the file browser's path
        } else {
          sidebar.directory = directory;
        }
      }
    });
    sidebar.title.icon = checkpointIcon;
    shell.add(sidebar, 'left', { rank: 700 });

    if (browser) {
      sidebar.directory = browser.model.path;
      browser.model.pathChanged.connect((_, change) => {
        sidebar.directory = change.newValue;
      });
    }

    const target = (args: any): ICheckpointInfo | null => {
      if (args.path !== undefined) {
        return { path: String(args.path), format: String(args.format ?? 'bundle') } as ICheckpointInfo;
      }
      return sidebar.current;
    };

    app.commands.addCommand(CommandIDs.showPanel, {
      label: 'Show Checkpoints Panel',
      execute: () => shell.activateById(sidebar.id)
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh Checkpoints Panel',
      execute: () => sidebar.refresh()
    });
    app.commands.addCommand(CommandIDs.openGraph, {
      label: 'Open Checkpoint Graph',
      isEnabled: args => target(args) !== null,
      execute: args => {
        const info = target(args);
        if (info) {
          openGraph(info.path);
        }
      }
    });
    app.commands.addCommand(CommandIDs.copyRestore, {
      label: 'Copy Checkpoint Restore Code',
      isEnabled: args => target(args) !== null,
      execute: args => {
        const info = target(args);
        if (info) {
          // written on the server from what the checkpoint is: its root names, TF1 or Keras
          return requestAPI<IEntries>('entries', { path: info.path, limit: 1, code_path: codePath(info) }).then(
            async reply => {
              const code = reply.restore_code ?? '';
              try {
                await navigator.clipboard.writeText(code); // still within the click's activation
              } catch {
                Clipboard.copyToSystem(code);
              }
            }
          );
        }
      }
    });
    app.commands.addCommand(CommandIDs.insertCell, {
      label: 'Insert %ckpt Cell',
      isEnabled: args => target(args) !== null && !!notebooks?.currentWidget,
      execute: args => {
        const info = target(args);
        const panel = notebooks?.currentWidget;
        if (!info || !panel) {
          return;
        }
        NotebookActions.insertBelow(panel.content);
        const cell = panel.content.activeCell;
        if (cell) {
          cell.model.sharedModel.setSource(ckptCell(codePath(info)));
        }
      }
    });
    sidebar.currentChanged.connect(() => app.commands.notifyCommandChanged());
    if (palette) {
      for (const command of Object.values(CommandIDs)) {
        palette.addItem({ command, category: 'Checkpoints' });
      }
    }

    for (const fileType of FILE_TYPES) {
      app.docRegistry.addFileType({ ...fileType, icon: checkpointIcon } as any);
    }
    app.docRegistry.addModelFactory(new MetadataOnlyModelFactory());
    const factory = new CheckpointViewerFactory(
      {
        name: FACTORY,
        label: FACTORY,
        modelName: MODEL,
        fileTypes: FILE_TYPES.map(t => t.name as string),
        defaultFor: FILE_TYPES.map(t => t.name as string),
        readOnly: true
      },
      openGraph
    );
    app.docRegistry.addWidgetFactory(factory);
  }
};

export default plugin;
