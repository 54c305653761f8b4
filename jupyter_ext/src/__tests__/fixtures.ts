/** Service records shaped like the API's (typed by the generated OpenAPI types). */
import type { GovernanceClient } from '../api';
import type {
  Dataset,
  DriftReport,
  FairnessAudit,
  Gate,
  GovernanceStatus,
  Lineage,
  Model,
  ModelVersion,
  Run
} from '../types';

export const NOW = new Date().toISOString();

export const status: GovernanceStatus = {
  connected: true,
  service_url: 'http://127.0.0.1:8000',
  message: 'ok',
  whoami: {
    kind: 'api_key',
    name: 'gk_ab12',
    is_superuser: false,
    memberships: [{ project: 'acme', project_name: 'Acme Bank', role: 'data_scientist' }]
  },
  project: 'acme',
  role: 'data_scientist'
};

export const dataset: Dataset = {
  id: 1,
  project: 'acme',
  name: 'breast_cancer',
  description: 'Wisconsin diagnostic',
  contains_personal_data: true,
  legal_basis: 'consent',
  created_at: NOW,
  created_by: 'gk_ab12'
};

export function run(id: number, overrides: Partial<Run> = {}): Run {
  return {
    id,
    project: 'acme',
    name: `train-${id}`,
    params: {},
    metrics: { accuracy: 0.95 },
    inputs: [{ data_version: 3, role: 'train' }],
    git_commit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    git_branch: 'main',
    git_dirty: false,
    notebook_path: 'work/train.ipynb',
    environment: {},
    status: 'finished',
    source: 'notebook',
    experiment: null,
    run_uuid: null,
    tags: {},
    user_name: '',
    started_at: null,
    ended_at: null,
    created_at: NOW,
    created_by: 'gk_ab12',
    ...overrides
  };
}

export const model: Model = {
  id: 7,
  project: 'acme',
  name: 'cancer-clf',
  description: '',
  risk_tier: 'high',
  created_at: NOW,
  created_by: 'gk_ab12'
};

export function version(id: number, overrides: Partial<ModelVersion> = {}): ModelVersion {
  return {
    id,
    project: 'acme',
    model: 7,
    version: id,
    run: 10 + id,
    artifact_uri: 'mem://x',
    artifact_sha256: 'f'.repeat(64),
    framework: 'sklearn',
    metrics: { accuracy: 0.9371, roc_auc: 0.98 },
    signature: {},
    intended_use: '',
    limitations: '',
    risk_tier: 'limited',
    stage: 'none',
    created_at: NOW,
    created_by: 'gk_ab12',
    ...overrides
  };
}

export const lineage: Lineage = {
  root: 'model_version:2',
  nodes: [
    {
      id: 'data_version:3',
      kind: 'data_version',
      pk: 3,
      label: 'breast_cancer@v1',
      attrs: { dataset_name: 'breast_cancer', version: 'v1', row_count: 569 }
    },
    {
      id: 'run:12',
      kind: 'run',
      pk: 12,
      label: 'train-12',
      attrs: { name: 'train-12', git_commit: 'a1b2c3d4e5f6' }
    },
    {
      id: 'model_version:2',
      kind: 'model_version',
      pk: 2,
      label: 'cancer-clf v2',
      attrs: { model_name: 'cancer-clf', version: 2, stage: 'staging' }
    },
    { id: 'decision:1', kind: 'decision', pk: 1, label: 'r-1', attrs: {} },
    { id: 'decision:2', kind: 'decision', pk: 2, label: 'r-2', attrs: {} }
  ],
  edges: [
    { source: 'data_version:3', target: 'run:12', relation: 'input', attrs: { role: 'train' } },
    { source: 'run:12', target: 'model_version:2', relation: 'produced', attrs: {} },
    { source: 'model_version:2', target: 'decision:1', relation: 'decided', attrs: {} }
  ]
};

export const audit: FairnessAudit = {
  id: 4,
  project: 'acme',
  model_version: 2,
  sensitive_features: ['sex', 'age_band'],
  positive_label: 1,
  window_start: null,
  window_end: null,
  row_count: 1200,
  overall: {},
  by_group: {},
  disparities: {},
  policy: {},
  passed: false,
  failed_checks: [{ check: 'demographic_parity_ratio', message: 'demographic parity ratio 0.71 < 0.8' }],
  created_at: NOW
};

export const drift: DriftReport = {
  id: 5,
  project: 'acme',
  model_version: 2,
  reference_data_version: 3,
  window_start: NOW,
  window_end: NOW,
  row_count: 800,
  features: {},
  drifted: true,
  drifted_features: ['mean radius'],
  policy: {},
  created_at: NOW
};

export const gate: Gate = {
  model_version: 2,
  to_stage: 'production',
  allowed: false,
  checks: [
    { check: 'metrics', passed: true, message: 'accuracy 0.94 >= 0.9' },
    { check: 'fairness', passed: false, message: 'latest fairness audit failed' }
  ]
};

export function page<T>(results: T[], count = results.length) {
  return { count, next: null, previous: null, results };
}

/** A client answering from these fixtures; every method is a jest mock that can be overridden. */
export function fakeClient(overrides: Partial<Record<keyof GovernanceClient, jest.Mock>> = {}): {
  [K in keyof GovernanceClient]: jest.Mock;
} {
  return {
    status: jest.fn(async () => status),
    datasets: jest.fn(async () => page([dataset])),
    runs: jest.fn(async () =>
      page([
        run(12),
        run(11, { status: 'failed', notebook_path: '' }),
        run(10, { source: 'mlflow', experiment: 'iris-governance', run_uuid: 'ab'.repeat(16), notebook_path: '' })
      ])
    ),
    models: jest.fn(async () => page([model])),
    modelVersions: jest.fn(async () => page([version(2, { stage: 'staging' }), version(1, { stage: 'production' })])),
    run: jest.fn(async (id: number) => run(id)),
    modelVersion: jest.fn(async (id: number) => version(id, { stage: 'staging' })),
    lineage: jest.fn(async () => lineage),
    latestFairnessAudit: jest.fn(async () => audit),
    latestDriftReport: jest.fn(async () => drift),
    gate: jest.fn(async () => gate),
    updateCard: jest.fn(async (id: number, card: Record<string, string>) => version(id, { stage: 'staging', ...card })),
    ...overrides
  };
}
