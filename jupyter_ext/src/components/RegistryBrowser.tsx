/** The project's datasets, runs and model versions, one searchable list per tab. */
import * as React from 'react';
import type { GovernanceClient } from '../api';
import { useAsync } from '../hooks';
import type { Dataset, Model, ModelVersion, Run } from '../types';
import { Badge, basename, ChevronIcon, relativeTime, shortCommit, StageBadge } from './common';
import { SearchableList } from './SearchableList';

export type RegistryTab = 'datasets' | 'runs' | 'model-versions';

export interface RegistryBrowserProps {
  client: GovernanceClient;
  project: string | null;
  /** changes whenever the lists should be fetched again (e.g. after a registration) */
  reloadKey: number;
  onOpenModelVersion: (id: number) => void;
  initialTab?: RegistryTab;
}

const TABS: { id: RegistryTab; label: string }[] = [
  { id: 'model-versions', label: 'Models' },
  { id: 'runs', label: 'Runs' },
  { id: 'datasets', label: 'Datasets' }
];

const RUN_TONES: Record<string, 'good' | 'bad' | 'warn'> = {
  finished: 'good',
  failed: 'bad',
  killed: 'bad',
  running: 'warn'
};

export function RegistryBrowser(props: RegistryBrowserProps): JSX.Element {
  const { client, project, reloadKey } = props;
  const [tab, setTab] = React.useState<RegistryTab>(props.initialTab ?? 'model-versions');

  const datasets = useAsync(() => client.datasets(project), [client, project, reloadKey]);
  const runs = useAsync(() => client.runs(project), [client, project, reloadKey]);
  const versions = useAsync(
    async () => {
      const [list, models] = await Promise.all([client.modelVersions(project), client.models(project)]);
      const names = new Map<number, Model>(models.results.map(model => [model.id, model]));
      return { list, names };
    },
    [client, project, reloadKey]
  );

  const modelName = (version: ModelVersion): string =>
    versions.status === 'ok' ? (versions.value.names.get(version.model)?.name ?? `model ${version.model}`) : '';

  const counts: Record<RegistryTab, number | null> = {
    datasets: datasets.status === 'ok' ? datasets.value.count : null,
    runs: runs.status === 'ok' ? runs.value.count : null,
    'model-versions': versions.status === 'ok' ? versions.value.list.count : null
  };

  return (
    <div className="jp-Governance-registry">
      <div className="jp-Governance-tabs" role="tablist">
        {TABS.map(t => (
          <button
            key={t.id}
            role="tab"
            aria-selected={tab === t.id}
            className={`jp-Governance-tab${tab === t.id ? ' jp-mod-active' : ''}`}
            onClick={() => setTab(t.id)}
            data-testid={`tab-${t.id}`}
          >
            {t.label}
            {counts[t.id] !== null && <span className="jp-Governance-tab-count">{counts[t.id]}</span>}
          </button>
        ))}
      </div>

      {tab === 'datasets' && (
        <SearchableList<Dataset>
          testId="datasets"
          items={datasets.status === 'ok' ? datasets.value.results : null}
          total={datasets.status === 'ok' ? datasets.value.count : undefined}
          error={datasets.status === 'error' ? datasets.error : null}
          onRetry={datasets.reload}
          getKey={d => d.id}
          getText={d => `${d.name} ${d.description ?? ''} ${d.legal_basis ?? ''}`}
          placeholder="Search datasets"
          emptyText="No datasets yet. Registering a run registers its training data too."
          renderItem={d => (
            <>
              <div className="jp-Governance-item-line">
                <span className="jp-Governance-item-title">{d.name}</span>
                {d.contains_personal_data && (
                  <Badge tone="warn" title={d.legal_basis ? `legal basis: ${d.legal_basis}` : undefined}>
                    personal data
                  </Badge>
                )}
              </div>
              <div className="jp-Governance-item-meta">
                {d.description || 'No description'} · {relativeTime(d.created_at)}
              </div>
            </>
          )}
        />
      )}

      {tab === 'runs' && (
        <SearchableList<Run>
          testId="runs"
          items={runs.status === 'ok' ? runs.value.results : null}
          total={runs.status === 'ok' ? runs.value.count : undefined}
          error={runs.status === 'error' ? runs.error : null}
          onRetry={runs.reload}
          getKey={r => r.id}
          getText={r =>
            `${r.name} #${r.id} ${r.notebook_path ?? ''} ${r.git_commit ?? ''} ${r.status ?? ''} ${r.experiment ?? ''} ${r.run_uuid ?? ''}`
          }
          placeholder="Search runs by name, notebook or commit"
          emptyText="No training runs yet."
          renderItem={r => (
            <>
              <div className="jp-Governance-item-line">
                <span className="jp-Governance-item-title">{r.name}</span>
                <span className="jp-Governance-muted">#{r.id}</span>
                {r.status && <Badge tone={RUN_TONES[r.status] ?? 'neutral'}>{r.status}</Badge>}
              </div>
              <div className="jp-Governance-item-meta">
                {r.source === 'mlflow' ? (
                  <span title={r.run_uuid ?? undefined}>MLflow · {r.experiment ?? 'Default'}</span>
                ) : r.notebook_path ? (
                  basename(r.notebook_path)
                ) : (
                  (r.source ?? 'api')
                )}
                {r.git_commit && (
                  <>
                    {' · '}
                    <code title={r.git_commit}>{shortCommit(r.git_commit)}</code>
                    {r.git_dirty && <span title="uncommitted changes"> (dirty)</span>}
                  </>
                )}
                {' · '}
                {relativeTime(r.created_at)}
              </div>
            </>
          )}
        />
      )}

      {tab === 'model-versions' && (
        <SearchableList<ModelVersion>
          testId="model-versions"
          items={versions.status === 'ok' ? versions.value.list.results : null}
          total={versions.status === 'ok' ? versions.value.list.count : undefined}
          error={versions.status === 'error' ? versions.error : null}
          onRetry={versions.reload}
          getKey={v => v.id}
          getText={v => `${modelName(v)} v${v.version} ${v.stage} ${v.framework ?? ''}`}
          placeholder="Search models, versions, stages"
          emptyText="No model versions yet."
          onSelect={v => props.onOpenModelVersion(v.id)}
          renderItem={v => (
            <>
              <div className="jp-Governance-item-line">
                <span className="jp-Governance-item-title">{modelName(v)}</span>
                <span className="jp-Governance-version">v{v.version}</span>
                <StageBadge stage={v.stage} />
                <ChevronIcon />
              </div>
              <div className="jp-Governance-item-meta">
                {v.framework || 'unknown framework'} · run #{v.run} · {relativeTime(v.created_at)}
              </div>
            </>
          )}
        />
      )}
    </div>
  );
}
