/** The whole Governance panel: connection, this notebook's runs and form, the project's registry. */
import * as React from 'react';
import type { GovernanceClient } from '../api';
import { useAsync } from '../hooks';
import { listCandidates, recordFromResult, registerRun, type KernelRunner } from '../kernel';
import type { NotebookRunRecord, RegisterRunRequest, RegisterRunResult } from '../types';
import { basename, NotebookIcon, RefreshIcon, Section } from './common';
import { ConnectionStatus } from './ConnectionStatus';
import { ModelVersionDetail } from './ModelVersionDetail';
import { NotebookRuns } from './NotebookRuns';
import { RegisterRunForm } from './RegisterRunForm';
import { RegistryBrowser } from './RegistryBrowser';

export interface NotebookContext {
  /** path relative to the Jupyter root */
  path: string;
  /** runs registered from this notebook (its metadata `governance.runs`) */
  runs: NotebookRunRecord[];
  /** runs code in the notebook's kernel; null while it has no kernel */
  kernel: KernelRunner | null;
  /** changes whenever a cell ran in the kernel (the kernel may hold new objects) */
  activity: number;
}

export interface SidebarProps {
  client: GovernanceClient;
  notebook: NotebookContext | null;
  /** keeps a run registered from the sidebar in the notebook's metadata */
  onRunRegistered?: (record: NotebookRunRecord) => void;
}

export function Sidebar(props: SidebarProps): JSX.Element {
  const { client, notebook } = props;
  const status = useAsync(() => client.status(), [client]);
  const [reloadKey, setReloadKey] = React.useState(0);
  const [detail, setDetail] = React.useState<number | null>(null);
  const kernel = notebook?.kernel ?? null;

  const loadCandidates = React.useCallback(() => listCandidates(kernel!), [kernel]);
  const register = React.useCallback((request: RegisterRunRequest) => registerRun(kernel!, request), [kernel]);
  const onRegistered = React.useCallback(
    (result: Extract<RegisterRunResult, { ok: true }>, request: RegisterRunRequest) => {
      props.onRunRegistered?.(recordFromResult(result, request.model_name));
      setReloadKey(k => k + 1);
    },
    [props.onRunRegistered]
  );

  // A run registered in the notebook another way (the %governance magic) changes the registry too.
  const runIds = (notebook?.runs ?? []).map(run => run.run_id).join(',');
  const seenRunIds = React.useRef(runIds);
  React.useEffect(() => {
    if (seenRunIds.current !== runIds) {
      seenRunIds.current = runIds;
      setReloadKey(k => k + 1);
    }
  }, [runIds]);

  const refreshAll = () => {
    status.reload();
    setReloadKey(k => k + 1);
  };

  const connected = status.status === 'ok' && status.value.connected;
  const project = status.status === 'ok' ? status.value.project : null;
  const runCount = notebook?.runs.length ?? 0;

  return (
    <div className="jp-Governance" data-testid="governance-sidebar">
      <header className="jp-Governance-header">
        <h2 className="jp-Governance-title">Governance</h2>
        <button className="jp-Governance-icon-button" onClick={refreshAll} title="Refresh" data-testid="refresh">
          <RefreshIcon />
        </button>
      </header>
      <ConnectionStatus
        status={status.status === 'ok' ? status.value : null}
        loading={status.status === 'loading'}
        error={status.status === 'error' ? status.error : null}
        onRetry={status.reload}
      />
      {connected && detail !== null && (
        <ModelVersionDetail id={detail} client={client} onBack={() => setDetail(null)} />
      )}
      {/* Hidden rather than unmounted while a version is open: the form and searches keep their state. */}
      {connected && (
        <div className="jp-Governance-body" hidden={detail !== null}>
          <Section
            title="This notebook"
            testId="section-notebook"
            subtitle={
              notebook ? (
                <span title={notebook.path}>
                  <NotebookIcon />
                  {basename(notebook.path)}
                  {runCount > 0 && (
                    <span className="jp-Governance-muted">
                      {' '}
                      · {runCount} run{runCount === 1 ? '' : 's'} registered
                    </span>
                  )}
                </span>
              ) : undefined
            }
          >
            <NotebookRuns
              notebookPath={notebook?.path ?? null}
              records={notebook?.runs ?? []}
              fetchRun={client.run}
              onOpenModelVersion={setDetail}
            />
            {notebook && (
              <div className="jp-Governance-register">
                <h3 className="jp-Governance-subheading">Register a run</h3>
                <RegisterRunForm
                  kernelReady={kernel !== null}
                  loadCandidates={loadCandidates}
                  register={register}
                  onRegistered={onRegistered}
                  refreshKey={`${notebook.path}:${notebook.activity}`}
                />
              </div>
            )}
          </Section>
          <Section title="Project registry" testId="section-registry">
            <RegistryBrowser
              client={client}
              project={project}
              reloadKey={reloadKey}
              onOpenModelVersion={setDetail}
            />
          </Section>
        </div>
      )}
    </div>
  );
}
