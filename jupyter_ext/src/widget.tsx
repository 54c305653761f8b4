/** The Governance panel as a JupyterLab widget. */
import * as React from 'react';
import { ReactWidget } from '@jupyterlab/apputils';
import { LabIcon } from '@jupyterlab/ui-components';
import type { GovernanceClient } from './api';
import { Sidebar } from './components/Sidebar';
import type { NotebookWatcher } from './notebook';

export const SIDEBAR_ID = 'governance-sidebar';

const SHIELD_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
  '<path class="jp-icon3" fill="#616161" d="M12 1 3 5v6c0 5.55 3.84 10.74 9 12 5.16-1.26 9-6.45 9-12V5l-9-4zm-2 16-4-4 ' +
  '1.41-1.41L10 14.17l6.59-6.59L18 9l-8 8z"/></svg>';

export const governanceIcon = new LabIcon({ name: 'governance-jupyter:shield', svgstr: SHIELD_SVG });

export class GovernanceSidebar extends ReactWidget {
  constructor(
    private _client: GovernanceClient,
    private _watcher: NotebookWatcher
  ) {
    super();
    this.id = SIDEBAR_ID;
    this.addClass('jp-GovernancePanel');
    this.title.icon = governanceIcon;
    this.title.caption = 'Governance: runs, models and lineage';
    this.title.label = 'Governance';
    _watcher.changed.connect(() => this.update(), this);
  }

  private _onRunRegistered = (record: Parameters<NotebookWatcher['addRun']>[0]) => this._watcher.addRun(record);

  render(): JSX.Element {
    return (
      <Sidebar client={this._client} notebook={this._watcher.context()} onRunRegistered={this._onRunRegistered} />
    );
  }
}
