/**
 * Registers a training run from the kernel's own objects: a fitted estimator and the DataFrame it
 * was trained on. The registration runs in the kernel, with the same client as the magics, so the
 * notebook path and git commit are captured there.
 */
import * as React from 'react';
import { errorMessage } from '../api';
import type {
  KernelCandidates,
  KernelDataFrame,
  KernelEstimator,
  RegisterRunRequest,
  RegisterRunResult
} from '../types';
import { Empty, ErrorBox, Loading } from './common';

export interface RegisterRunFormProps {
  /** a notebook with a kernel is open */
  kernelReady: boolean;
  loadCandidates: () => Promise<KernelCandidates>;
  register: (request: RegisterRunRequest) => Promise<RegisterRunResult>;
  onRegistered?: (result: Extract<RegisterRunResult, { ok: true }>, request: RegisterRunRequest) => void;
  /** changes when the kernel may hold new objects (a cell ran, another notebook was opened) */
  refreshKey?: string | number;
}

export type Metrics = Record<string, number | number[]>;

/** Parses the metrics text: a JSON object of numbers or lists of numbers. */
export function parseMetrics(text: string): { metrics: Metrics } | { error: string } {
  if (!text.trim()) {
    return { metrics: {} };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'Metrics must be JSON, e.g. {"accuracy": 0.93}' };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { error: 'Metrics must be a JSON object, e.g. {"accuracy": 0.93}' };
  }
  const isNumber = (v: unknown) => typeof v === 'number' && isFinite(v);
  for (const [name, metric] of Object.entries(value as Record<string, unknown>)) {
    if (!(isNumber(metric) || (Array.isArray(metric) && metric.length > 0 && metric.every(isNumber)))) {
      return { error: `Metric “${name}” must be a number or a list of numbers` };
    }
  }
  return { metrics: value as Metrics };
}

/** The lawful bases of GDPR Art. 6(1), offered when the data holds personal data. */
export const LEGAL_BASES = [
  'consent',
  'contract',
  'legal obligation',
  'vital interests',
  'public task',
  'legitimate interests'
];

const TARGET_NAMES = ['target', 'label', 'y', 'class', 'outcome'];

function guessTarget(frame: KernelDataFrame | undefined): string {
  if (!frame || frame.columns.length === 0) {
    return '';
  }
  const byName = frame.columns.find(column => TARGET_NAMES.includes(column.toLowerCase()));
  return byName ?? frame.columns[frame.columns.length - 1];
}

/** The class name without its module: "sklearn.linear_model._logistic.LogisticRegression" -> "LogisticRegression". */
export function shortClass(name: string): string {
  return name.split('.').pop() ?? name;
}

const PREDICTOR = /(Classifier|Regressor|Regression|Pipeline|SVC|SVR|NB|Boost|Forest|Tree|Net|Model)$/;

/** The estimator to offer first: a predictor (not a scaler or encoder) when there is one. */
export function defaultEstimator(estimators: KernelEstimator[]): string {
  return (estimators.find(e => PREDICTOR.test(shortClass(e.class))) ?? estimators[0])?.name ?? '';
}

type Outcome =
  | { ok: true; result: Extract<RegisterRunResult, { ok: true }>; modelName: string }
  | { ok: false; error: string }
  | null;

export function RegisterRunForm(props: RegisterRunFormProps): JSX.Element {
  const { kernelReady, loadCandidates, refreshKey } = props;
  const [candidates, setCandidates] = React.useState<KernelCandidates | null>(null);
  const [loadError, setLoadError] = React.useState<string | null>(null);
  const [loading, setLoading] = React.useState(false);
  const [chosenModel, setModel] = React.useState('');
  const [chosenData, setData] = React.useState('');
  const [chosenTarget, setTarget] = React.useState('');
  const [chosenSubject, setSubject] = React.useState('');
  const [datasetText, setDataset] = React.useState('');
  const [datasetEdited, setDatasetEdited] = React.useState(false);
  const [modelNameText, setModelName] = React.useState('');
  const [modelNameEdited, setModelNameEdited] = React.useState(false);
  const [runName, setRunName] = React.useState('');
  const [legalBasis, setLegalBasis] = React.useState('');
  const [metricsText, setMetricsText] = React.useState('');
  const [touched, setTouched] = React.useState(false);
  const [submitting, setSubmitting] = React.useState(false);
  const [outcome, setOutcome] = React.useState<Outcome>(null);

  const refresh = React.useCallback(() => {
    if (!kernelReady) {
      return;
    }
    let current = true;
    setLoading(true);
    loadCandidates().then(
      value => {
        if (current) {
          setCandidates(value);
          setLoadError(null);
          setLoading(false);
        }
      },
      error => {
        if (current) {
          setLoadError(errorMessage(error));
          setLoading(false);
        }
      }
    );
    return () => {
      current = false;
    };
  }, [kernelReady, loadCandidates]);

  React.useEffect(() => refresh(), [refresh, refreshKey]);

  // The selections stay valid as the kernel's objects change: whatever was chosen and is gone
  // falls back to a default (a predictor, the first DataFrame, a conventional target).
  const frames = candidates?.dataframes ?? [];
  const estimators = candidates?.estimators ?? [];
  const model = estimators.some(e => e.name === chosenModel) ? chosenModel : defaultEstimator(estimators);
  const frame = frames.find(f => f.name === chosenData) ?? frames[0];
  const data = frame?.name ?? '';
  const columns = frame?.columns ?? [];
  const target = columns.includes(chosenTarget) ? chosenTarget : guessTarget(frame);
  const subject = columns.includes(chosenSubject) ? chosenSubject : '';
  const dataset = datasetEdited ? datasetText : data;
  const modelName = modelNameEdited ? modelNameText : model;

  const metrics = parseMetrics(metricsText);
  const errors: Record<string, string> = {};
  if (!model) {
    errors.model = 'Choose a fitted estimator';
  }
  if (!frame) {
    errors.data = 'Choose the training DataFrame';
  } else if (!frame.columns.includes(target)) {
    errors.target = 'Choose the target column';
  }
  if (subject && subject === target) {
    errors.subject = 'The subject id column cannot be the target';
  }
  if (subject && !legalBasis) {
    errors.legal_basis = 'Give the legal basis for processing this personal data';
  }
  if (!dataset.trim()) {
    errors.dataset = 'Name the dataset';
  }
  if (!modelName.trim()) {
    errors.model_name = 'Name the model';
  }
  if ('error' in metrics) {
    errors.metrics = metrics.error;
  }
  const valid = Object.keys(errors).length === 0;

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (!valid || submitting || 'error' in metrics) {
      return;
    }
    const request: RegisterRunRequest = {
      model,
      data,
      target,
      subject_column: subject || null,
      dataset: dataset.trim(),
      model_name: modelName.trim(),
      metrics: metrics.metrics
    };
    if (runName.trim()) {
      request.run_name = runName.trim();
    }
    if (subject) {
      request.legal_basis = legalBasis;
    }
    setSubmitting(true);
    setOutcome(null);
    try {
      const result = await props.register(request);
      if (result.ok) {
        setOutcome({ ok: true, result, modelName: request.model_name });
        setTouched(false);
        props.onRegistered?.(result, request);
      } else {
        setOutcome({ ok: false, error: result.error });
      }
    } catch (error) {
      setOutcome({ ok: false, error: errorMessage(error) });
    } finally {
      setSubmitting(false);
    }
  };

  if (!kernelReady) {
    return <Empty testId="register-no-kernel">Start the notebook’s kernel to register a run from it.</Empty>;
  }
  if (!candidates) {
    return loadError ? (
      <ErrorBox onRetry={refresh}>Could not list the kernel’s objects: {loadError}</ErrorBox>
    ) : (
      <Loading>Looking for DataFrames and estimators in the kernel…</Loading>
    );
  }

  const fieldError = (name: string) =>
    touched && errors[name] ? (
      <div className="jp-Governance-field-error" data-testid={`error-${name}`}>
        {errors[name]}
      </div>
    ) : null;

  const refreshButton = (
    <button
      type="button"
      className="jp-Governance-link"
      onClick={refresh}
      disabled={loading}
      data-testid="register-refresh"
      title="List the kernel’s DataFrames and fitted estimators again"
    >
      {loading ? 'Refreshing…' : 'Refresh'}
    </button>
  );

  if (estimators.length === 0 || frames.length === 0) {
    return (
      <div className="jp-Governance-empty" data-testid="register-nothing">
        <div>
          {estimators.length === 0 ? 'No fitted scikit-learn estimator' : 'No pandas DataFrame'} in the kernel yet.
          Run the cells that load the data and train the model.
        </div>
        {refreshButton}
      </div>
    );
  }

  return (
    <form className="jp-Governance-form" onSubmit={submit} data-testid="register-form" noValidate>
      <div className="jp-Governance-form-intro">
        <span>From the kernel: {estimators.length} estimator{estimators.length === 1 ? '' : 's'}, {frames.length}{' '}
        DataFrame{frames.length === 1 ? '' : 's'}</span>
        {refreshButton}
      </div>
      <label className="jp-Governance-field">
        <span className="jp-Governance-label">Fitted estimator</span>
        <select className="jp-Governance-input" value={model} onChange={e => setModel(e.target.value)} data-testid="register-model">
          {estimators.map(e => (
            <option key={e.name} value={e.name}>
              {e.name} — {shortClass(e.class)}
            </option>
          ))}
        </select>
        {fieldError('model')}
      </label>
      <label className="jp-Governance-field">
        <span className="jp-Governance-label">Training data</span>
        <select className="jp-Governance-input" value={data} onChange={e => setData(e.target.value)} data-testid="register-data">
          {frames.map(f => (
            <option key={f.name} value={f.name}>
              {f.name} — {f.rows.toLocaleString('en')} rows × {f.columns.length} columns
            </option>
          ))}
        </select>
        {fieldError('data')}
      </label>
      <div className="jp-Governance-field-row">
        <label className="jp-Governance-field">
          <span className="jp-Governance-label">Target column</span>
          <select className="jp-Governance-input" value={target} onChange={e => setTarget(e.target.value)} data-testid="register-target">
            {columns.map(c => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          {fieldError('target')}
        </label>
        <label className="jp-Governance-field">
          <span className="jp-Governance-label">Subject id column</span>
          <select className="jp-Governance-input" value={subject} onChange={e => setSubject(e.target.value)} data-testid="register-subject">
            <option value="">none</option>
            {columns.map(c => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          {fieldError('subject')}
        </label>
      </div>
      {subject && (
        <label className="jp-Governance-field">
          <span className="jp-Governance-label">
            Legal basis <span className="jp-Governance-muted">(personal data: GDPR Art. 6)</span>
          </span>
          <select
            className="jp-Governance-input"
            value={legalBasis}
            onChange={e => setLegalBasis(e.target.value)}
            data-testid="register-legal-basis"
          >
            <option value="">choose…</option>
            {LEGAL_BASES.map(basis => (
              <option key={basis} value={basis}>
                {basis}
              </option>
            ))}
          </select>
          {fieldError('legal_basis')}
        </label>
      )}
      <div className="jp-Governance-field-row">
        <label className="jp-Governance-field">
          <span className="jp-Governance-label">Dataset</span>
          <input
            className="jp-Governance-input"
            value={dataset}
            onChange={e => {
              setDataset(e.target.value);
              setDatasetEdited(true);
            }}
            data-testid="register-dataset"
          />
          {fieldError('dataset')}
        </label>
        <label className="jp-Governance-field">
          <span className="jp-Governance-label">Model</span>
          <input
            className="jp-Governance-input"
            value={modelName}
            onChange={e => {
              setModelName(e.target.value);
              setModelNameEdited(true);
            }}
            data-testid="register-model-name"
          />
          {fieldError('model_name')}
        </label>
      </div>
      <label className="jp-Governance-field">
        <span className="jp-Governance-label">
          Run name <span className="jp-Governance-muted">(optional)</span>
        </span>
        <input
          className="jp-Governance-input"
          value={runName}
          placeholder="named after the notebook"
          onChange={e => setRunName(e.target.value)}
          data-testid="register-run-name"
        />
      </label>
      <label className="jp-Governance-field">
        <span className="jp-Governance-label">
          Metrics <span className="jp-Governance-muted">(JSON)</span>
        </span>
        <textarea
          className="jp-Governance-input jp-Governance-code"
          rows={3}
          value={metricsText}
          placeholder={'{"accuracy": 0.95, "roc_auc": 0.98}'}
          onChange={e => setMetricsText(e.target.value)}
          data-testid="register-metrics"
        />
        {(touched || metricsText.trim() !== '') && errors.metrics && (
          <div className="jp-Governance-field-error" data-testid="error-metrics">
            {errors.metrics}
          </div>
        )}
      </label>
      <button
        type="submit"
        className="jp-Governance-button jp-mod-accept"
        disabled={submitting}
        data-testid="register-submit"
      >
        {submitting ? 'Registering…' : 'Register run'}
      </button>
      {outcome?.ok === true && (
        <div className="jp-Governance-success" role="status" data-testid="register-success">
          Registered run <strong>#{outcome.result.run.id}</strong> “{outcome.result.run.name}” · model{' '}
          <strong>
            {outcome.modelName} v{outcome.result.model_version.version}
          </strong>{' '}
          · data version #{outcome.result.data_version.id}
        </div>
      )}
      {outcome?.ok === false && <ErrorBox>{outcome.error}</ErrorBox>}
    </form>
  );
}
