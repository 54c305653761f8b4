/**
 * A typed client for the service, as seen through the Jupyter server extension's proxy
 * (`governance/api/<path>` forwards GETs to the service's `/api/v1/<path>`, and the one write: a model
 * version's card, PATCH `model-versions/<id>/`). It depends only on a
 * `fetchJson` function, so the components that use it are testable without a server.
 */
import type {
  DriftReport,
  FairnessAudit,
  Gate,
  GovernanceStatus,
  Lineage,
  ModelCardUpdate,
  ModelVersion,
  PaginatedDatasetList,
  PaginatedDriftReportList,
  PaginatedFairnessAuditList,
  PaginatedModelList,
  PaginatedModelVersionList,
  PaginatedRunList,
  Run
} from './types';

export type Query = Record<string, string | number | boolean | undefined | null>;

/** Request a path relative to the extension's routes (e.g. `status`, `api/runs/`; GET unless `init` says
 * otherwise) and parse its JSON. */
export type FetchJson = (path: string, init?: RequestInit) => Promise<unknown>;

/** A refusal of the service (or the extension): its message, HTTP status, error code and per-field messages. */
export class ServiceError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly fields: Record<string, string[]>
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** How many records a list shows at most; search filters within them. */
export const LIST_PAGE_SIZE = 200;

export function withQuery(path: string, query: Query = {}): string {
  const params = Object.entries(query)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  return params.length ? `${path}?${params.join('&')}` : path;
}

export interface GovernanceClient {
  status(): Promise<GovernanceStatus>;
  datasets(project: string | null): Promise<PaginatedDatasetList>;
  runs(project: string | null): Promise<PaginatedRunList>;
  models(project: string | null): Promise<PaginatedModelList>;
  modelVersions(project: string | null): Promise<PaginatedModelVersionList>;
  run(id: number): Promise<Run>;
  modelVersion(id: number): Promise<ModelVersion>;
  lineage(modelVersionId: number): Promise<Lineage>;
  latestFairnessAudit(modelVersionId: number): Promise<FairnessAudit | null>;
  latestDriftReport(modelVersionId: number): Promise<DriftReport | null>;
  gate(modelVersionId: number): Promise<Gate>;
  /** Edit the version's model card (only the fields given); refused once it has been in production. */
  updateCard(modelVersionId: number, card: ModelCardUpdate): Promise<ModelVersion>;
}

export function createClient(fetchJson: FetchJson): GovernanceClient {
  const api = <T>(path: string, query?: Query): Promise<T> =>
    fetchJson(withQuery(`api/${path}`, query)) as Promise<T>;
  const list = { page_size: LIST_PAGE_SIZE };
  return {
    status: () => fetchJson('status') as Promise<GovernanceStatus>,
    datasets: project => api<PaginatedDatasetList>('datasets/', { ...list, project }),
    runs: project => api<PaginatedRunList>('runs/', { ...list, project }),
    models: project => api<PaginatedModelList>('models/', { ...list, project }),
    modelVersions: project => api<PaginatedModelVersionList>('model-versions/', { ...list, project }),
    run: id => api<Run>(`runs/${id}/`),
    modelVersion: id => api<ModelVersion>(`model-versions/${id}/`),
    lineage: id => api<Lineage>('lineage/', { node: `model_version:${id}` }),
    // Both lists are ordered newest first by the service.
    latestFairnessAudit: async id =>
      (await api<PaginatedFairnessAuditList>('fairness-audits/', { model_version: id, page_size: 1 })).results[0] ??
      null,
    latestDriftReport: async id =>
      (await api<PaginatedDriftReportList>('drift-reports/', { model_version: id, page_size: 1 })).results[0] ?? null,
    gate: id => api<Gate>(`model-versions/${id}/gate/`),
    updateCard: (id, card) =>
      fetchJson(`api/model-versions/${id}/`, {
        method: 'PATCH',
        body: JSON.stringify(card),
        headers: { 'Content-Type': 'application/json' }
      }) as Promise<ModelVersion>
  };
}

/** The text to show for a failed request. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message || error.name;
  }
  return String(error);
}
