import * as React from 'react';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { defaultEstimator, parseMetrics, RegisterRunForm } from '../components/RegisterRunForm';
import type { KernelCandidates, RegisterRunResult } from '../types';
import { run, version } from './fixtures';

const candidates: KernelCandidates = {
  dataframes: [
    { name: 'df', rows: 569, columns: ['mean radius', 'mean texture', 'target', 'patient_id'] },
    { name: 'arrests', rows: 5226, columns: ['released', 'colour', 'age'] }
  ],
  estimators: [
    { name: 'clf', class: 'sklearn.ensemble._forest.RandomForestClassifier' },
    { name: 'scaler', class: 'sklearn.preprocessing._data.StandardScaler' }
  ]
};

const success: RegisterRunResult = {
  ok: true,
  run: run(12, { name: 'train.ipynb' }),
  model_version: version(3),
  data_version: { id: 9 } as any
};

async function renderForm(overrides: Partial<React.ComponentProps<typeof RegisterRunForm>> = {}) {
  const props = {
    kernelReady: true,
    loadCandidates: jest.fn(async () => candidates),
    register: jest.fn(async () => success),
    onRegistered: jest.fn(),
    ...overrides
  };
  render(<RegisterRunForm {...props} />);
  if (props.kernelReady) {
    await screen.findAllByTestId(/^(register-form|register-nothing|error)$/);
  }
  return props;
}

const value = (testId: string) => (screen.getByTestId(testId) as HTMLInputElement).value;
const options = (testId: string) =>
  Array.from((screen.getByTestId(testId) as HTMLSelectElement).options).map(o => o.value);

describe('defaultEstimator', () => {
  it('prefers a predictor to a transformer', () => {
    const scaler = { name: 'a_scaler', class: 'sklearn.preprocessing._data.StandardScaler' };
    const pipe = { name: 'pipe', class: 'sklearn.pipeline.Pipeline' };
    expect(defaultEstimator([scaler, pipe])).toBe('pipe');
    expect(defaultEstimator([scaler])).toBe('a_scaler');
    expect(defaultEstimator([])).toBe('');
  });
});

describe('parseMetrics', () => {
  it('accepts numbers and step series, and explains what is wrong', () => {
    expect(parseMetrics('')).toEqual({ metrics: {} });
    expect(parseMetrics('{"accuracy": 0.9, "loss": [0.5, 0.3]}')).toEqual({ metrics: { accuracy: 0.9, loss: [0.5, 0.3] } });
    expect(parseMetrics('{accuracy: 0.9}')).toEqual({ error: expect.stringContaining('must be JSON') });
    expect(parseMetrics('[1]')).toEqual({ error: expect.stringContaining('JSON object') });
    expect(parseMetrics('{"accuracy": "high"}')).toEqual({ error: 'Metric “accuracy” must be a number or a list of numbers' });
  });
});

describe('RegisterRunForm', () => {
  it('lists the kernel’s estimators and DataFrames, with columns of the chosen one', async () => {
    await renderForm();
    expect(options('register-model')).toEqual(['clf', 'scaler']);
    expect(value('register-model')).toBe('clf'); // a predictor rather than a transformer
    expect(screen.getByTestId('register-model')).toHaveTextContent('clf — RandomForestClassifier');
    expect(options('register-data')).toEqual(['df', 'arrests']);
    expect(screen.getByTestId('register-data')).toHaveTextContent('df — 569 rows × 4 columns');
    expect(options('register-target')).toEqual(['mean radius', 'mean texture', 'target', 'patient_id']);
    expect(value('register-target')).toBe('target');
    expect(options('register-subject')).toEqual(['', 'mean radius', 'mean texture', 'target', 'patient_id']);
    expect(value('register-dataset')).toBe('df');
    expect(value('register-model-name')).toBe('clf');

    fireEvent.change(screen.getByTestId('register-data'), { target: { value: 'arrests' } });
    expect(options('register-target')).toEqual(['released', 'colour', 'age']);
    expect(value('register-target')).toBe('age'); // no conventional name: the last column
    expect(value('register-dataset')).toBe('arrests');
  });

  it('registers with the chosen values', async () => {
    const props = await renderForm();
    expect(screen.queryByTestId('register-legal-basis')).toBeNull();
    fireEvent.change(screen.getByTestId('register-subject'), { target: { value: 'patient_id' } });
    fireEvent.change(screen.getByTestId('register-legal-basis'), { target: { value: 'consent' } });
    fireEvent.change(screen.getByTestId('register-dataset'), { target: { value: 'breast_cancer' } });
    fireEvent.change(screen.getByTestId('register-model-name'), { target: { value: 'cancer-clf' } });
    fireEvent.change(screen.getByTestId('register-run-name'), { target: { value: 'rf-200' } });
    fireEvent.change(screen.getByTestId('register-metrics'), { target: { value: '{"accuracy": 0.96}' } });
    fireEvent.click(screen.getByTestId('register-submit'));
    const done = await screen.findByTestId('register-success');
    expect(done).toHaveTextContent('Registered run #12');
    expect(done).toHaveTextContent('cancer-clf v3');
    expect(done).toHaveTextContent('data version #9');
    const request = {
      model: 'clf',
      data: 'df',
      target: 'target',
      subject_column: 'patient_id',
      dataset: 'breast_cancer',
      model_name: 'cancer-clf',
      metrics: { accuracy: 0.96 },
      run_name: 'rf-200',
      legal_basis: 'consent'
    };
    expect(props.register).toHaveBeenCalledWith(request);
    expect(props.onRegistered).toHaveBeenCalledWith(success, request);
  });

  it('does not submit invalid metrics or a subject column equal to the target', async () => {
    const props = await renderForm();
    fireEvent.change(screen.getByTestId('register-metrics'), { target: { value: '{"accuracy": "high"}' } });
    expect(screen.getByTestId('error-metrics')).toHaveTextContent('must be a number');
    fireEvent.change(screen.getByTestId('register-subject'), { target: { value: 'target' } });
    fireEvent.change(screen.getByTestId('register-model-name'), { target: { value: ' ' } });
    fireEvent.click(screen.getByTestId('register-submit'));
    expect(screen.getByTestId('error-subject')).toHaveTextContent('cannot be the target');
    expect(screen.getByTestId('error-legal_basis')).toHaveTextContent('legal basis');
    expect(screen.getByTestId('error-model_name')).toHaveTextContent('Name the model');
    expect(props.register).not.toHaveBeenCalled();
  });

  it('shows the error the kernel reports', async () => {
    await renderForm({ register: jest.fn(async () => ({ ok: false as const, error: 'HTTP 403: forbidden' })) });
    fireEvent.click(screen.getByTestId('register-submit'));
    expect(await screen.findByTestId('error')).toHaveTextContent('HTTP 403: forbidden');
    expect(screen.queryByTestId('register-success')).toBeNull();
  });

  it('disables the button while registering', async () => {
    let finish: (value: RegisterRunResult) => void = () => undefined;
    await renderForm({ register: jest.fn(() => new Promise<RegisterRunResult>(resolve => (finish = resolve))) });
    fireEvent.click(screen.getByTestId('register-submit'));
    expect(screen.getByTestId('register-submit')).toBeDisabled();
    expect(screen.getByTestId('register-submit')).toHaveTextContent('Registering…');
    await act(async () => finish(success));
    expect(screen.getByTestId('register-submit')).toBeEnabled();
  });

  it('asks for a kernel, and for objects when the kernel has none', async () => {
    const { unmount } = render(
      <RegisterRunForm kernelReady={false} loadCandidates={jest.fn()} register={jest.fn()} />
    );
    expect(screen.getByTestId('register-no-kernel')).toBeInTheDocument();
    unmount();
    const loadCandidates = jest.fn(async (): Promise<KernelCandidates> => ({ dataframes: [], estimators: [] }));
    await renderForm({ loadCandidates });
    expect(await screen.findByTestId('register-nothing')).toHaveTextContent('No fitted scikit-learn estimator');
    loadCandidates.mockResolvedValueOnce(candidates);
    fireEvent.click(screen.getByTestId('register-refresh'));
    await screen.findByTestId('register-form');
  });

  it('lists the kernel’s objects again when a cell ran', async () => {
    const loadCandidates = jest.fn(async () => candidates);
    const { rerender } = render(
      <RegisterRunForm kernelReady={true} loadCandidates={loadCandidates} register={jest.fn()} refreshKey={1} />
    );
    await screen.findByTestId('register-form');
    rerender(<RegisterRunForm kernelReady={true} loadCandidates={loadCandidates} register={jest.fn()} refreshKey={2} />);
    await waitFor(() => expect(loadCandidates).toHaveBeenCalledTimes(2));
  });

  it('reports a kernel that cannot list its objects', async () => {
    await renderForm({ loadCandidates: jest.fn(async () => Promise.reject(new Error("ModuleNotFoundError: No module named 'governance_jupyter'"))) });
    expect(await screen.findByTestId('error')).toHaveTextContent('No module named');
  });
});
