import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { createClient } from './api';
import { NotebookWatcher } from './notebook';
import { makeFetchJson } from './request';
import { GovernanceSidebar } from './widget';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'governance-jupyter:plugin',
  description: 'A Governance panel: register training runs from the notebook, browse models and their lineage.',
  autoStart: true,
  requires: [ILabShell, INotebookTracker],
  optional: [ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell,
    tracker: INotebookTracker,
    restorer: ILayoutRestorer | null
  ) => {
    const client = createClient(makeFetchJson(app.serviceManager.serverSettings));
    const widget = new GovernanceSidebar(client, new NotebookWatcher(tracker));
    labShell.add(widget, 'left', { rank: 1000 });
    restorer?.add(widget, widget.id);
  }
};

export default plugin;
