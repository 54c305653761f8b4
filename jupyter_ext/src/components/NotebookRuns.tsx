/** The runs registered from the open notebook (kept in its metadata), checked against the service. */
import * as React from 'react';
import type { NotebookRunRecord, Run } from '../types';
import { Badge, Empty, relativeTime, shortCommit } from './common';

export interface NotebookRunsProps {
  /** the open notebook's path, or null when no notebook is open */
  notebookPath: string | null;
  records: NotebookRunRecord[];
  /** fetches a run from the service, to show its current state */
  fetchRun?: (id: number) => Promise<Run>;
  onOpenModelVersion: (id: number) => void;
}

type Live = { state: 'ok'; run: Run } | { state: 'missing'; error: string };

export function NotebookRuns(props: NotebookRunsProps): JSX.Element {
  const { records, fetchRun } = props;
  const [live, setLive] = React.useState<Record<number, Live>>({});
  const ids = records.map(r => r.run_id).join(',');

  React.useEffect(() => {
    if (!fetchRun) {
      return;
    }
    let current = true;
    for (const record of records) {
      fetchRun(record.run_id).then(
        run => current && setLive(previous => ({ ...previous, [record.run_id]: { state: 'ok', run } })),
        error =>
          current &&
          setLive(previous => ({ ...previous, [record.run_id]: { state: 'missing', error: String(error?.message ?? error) } }))
      );
    }
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ids, fetchRun]);

  if (!props.notebookPath) {
    return <Empty testId="notebook-runs-empty">Open a notebook to see and register its training runs.</Empty>;
  }
  if (records.length === 0) {
    return (
      <Empty testId="notebook-runs-empty">
        No runs registered from this notebook yet. Train a model, then register it below (or with{' '}
        <code>%governance register-run</code>).
      </Empty>
    );
  }
  // newest first
  const ordered = [...records].reverse();
  return (
    <ul className="jp-Governance-list" data-testid="notebook-runs">
      {ordered.map(record => {
        const state = live[record.run_id];
        const run = state?.state === 'ok' ? state.run : null;
        const versionId = record.model_version_id;
        return (
          <li key={record.run_id} className="jp-Governance-list-item" data-testid="notebook-run" data-run-id={record.run_id}>
            <div className="jp-Governance-item-line">
              <span className="jp-Governance-item-title">{record.run_name}</span>
              <span className="jp-Governance-muted">#{record.run_id}</span>
              {run?.status && (
                <Badge tone={run.status === 'finished' ? 'good' : run.status === 'failed' ? 'bad' : 'warn'}>
                  {run.status}
                </Badge>
              )}
              {state?.state === 'missing' && (
                <Badge tone="bad" title={state.error}>
                  not found
                </Badge>
              )}
            </div>
            <div className="jp-Governance-item-meta">
              {versionId !== null && record.model ? (
                <button
                  className="jp-Governance-link"
                  onClick={() => props.onOpenModelVersion(versionId)}
                  data-testid="notebook-run-model"
                >
                  {record.model} v{record.version}
                </button>
              ) : (
                'no model version'
              )}
              {record.git_commit && (
                <>
                  {' · '}
                  <code title={record.git_commit}>{shortCommit(record.git_commit)}</code>
                </>
              )}
              {run && <> · {relativeTime(run.created_at)}</>}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
