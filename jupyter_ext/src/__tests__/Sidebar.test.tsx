import * as React from 'react';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { Sidebar, type NotebookContext } from '../components/Sidebar';
import { registerRunCode } from '../kernel';
import { fakeClient, run, status, version } from './fixtures';

const candidates = {
  dataframes: [{ name: 'df', rows: 569, columns: ['mean radius', 'target'] }],
  estimators: [{ name: 'clf', class: 'LogisticRegression' }]
};

function kernel() {
  const registered = {
    ok: true,
    run: run(42, { name: 'train.ipynb', notebook_path: 'train.ipynb', git_commit: 'cafebabe' }),
    model_version: version(5),
    data_version: { id: 9 }
  };
  return jest.fn(async (code: string) =>
    code.includes('list_candidates') ? JSON.stringify(candidates) : `${JSON.stringify(registered)}\n`
  );
}

describe('Sidebar', () => {
  it('shows only the connection when the service is not reachable', async () => {
    const client = fakeClient({ status: jest.fn(async () => ({ ...status, connected: false, message: 'refused' })) });
    render(<Sidebar client={client} notebook={null} />);
    expect(await screen.findByText('refused')).toBeInTheDocument();
    expect(screen.queryByTestId('section-notebook')).toBeNull();
    expect(client.runs).not.toHaveBeenCalled();
  });

  it('asks to open a notebook when none is', async () => {
    render(<Sidebar client={fakeClient()} notebook={null} />);
    expect(await screen.findByTestId('notebook-runs-empty')).toHaveTextContent('Open a notebook');
    expect(screen.queryByTestId('register-form')).toBeNull();
    expect(await screen.findAllByTestId('model-versions-item')).toHaveLength(2);
  });

  it('registers a run through the kernel and keeps it with the notebook', async () => {
    const client = fakeClient();
    const runner = kernel();
    const onRunRegistered = jest.fn();
    const notebook: NotebookContext = { path: 'work/train.ipynb', runs: [], kernel: runner, activity: 0 };
    render(<Sidebar client={client} notebook={notebook} onRunRegistered={onRunRegistered} />);
    expect(await screen.findByTestId('section-notebook')).toHaveTextContent('train.ipynb');
    await screen.findByTestId('register-form');
    fireEvent.change(screen.getByTestId('register-metrics'), { target: { value: '{"accuracy": 0.95}' } });
    fireEvent.click(screen.getByTestId('register-submit'));
    await screen.findByTestId('register-success');
    expect(runner).toHaveBeenLastCalledWith(
      registerRunCode({
        model: 'clf',
        data: 'df',
        target: 'target',
        subject_column: null,
        dataset: 'df',
        model_name: 'clf',
        metrics: { accuracy: 0.95 }
      })
    );
    expect(onRunRegistered).toHaveBeenCalledWith(
      expect.objectContaining({ run_id: 42, model: 'clf', version: 5, git_commit: 'cafebabe', notebook_path: 'train.ipynb' })
    );
    await waitFor(() => expect(client.runs).toHaveBeenCalledTimes(2)); // the registry lists are fetched again
  });

  it('opens a model version from the list and goes back', async () => {
    render(<Sidebar client={fakeClient()} notebook={null} />);
    fireEvent.change(await screen.findByTestId('model-versions-search'), { target: { value: 'cancer' } });
    fireEvent.click((await screen.findAllByTestId('model-versions-item'))[0]);
    expect(await screen.findByTestId('model-version-detail')).toBeInTheDocument();
    expect(screen.getByTestId('section-registry')).not.toBeVisible();
    fireEvent.click(screen.getByTestId('detail-back'));
    expect(screen.queryByTestId('model-version-detail')).toBeNull();
    expect(screen.getByTestId('section-registry')).toBeVisible();
    expect(screen.getByTestId('model-versions-search')).toHaveValue('cancer'); // kept while the version was open
  });

  it('fetches the registry again when a run arrives in the notebook another way', async () => {
    const client = fakeClient();
    const notebook: NotebookContext = { path: 'train.ipynb', runs: [], kernel: null, activity: 0 };
    const { rerender } = render(<Sidebar client={client} notebook={notebook} />);
    await screen.findAllByTestId('model-versions-item');
    expect(client.modelVersions).toHaveBeenCalledTimes(1);
    const record = {
      run_id: 7,
      run_name: 'from-magic',
      model_version_id: 3,
      model: 'cancer-clf',
      version: 3,
      data_version_id: 1,
      notebook_path: 'train.ipynb',
      git_commit: 'abc'
    };
    rerender(<Sidebar client={client} notebook={{ ...notebook, runs: [record] }} />);
    expect(await screen.findByText('from-magic')).toBeInTheDocument();
    await waitFor(() => expect(client.modelVersions).toHaveBeenCalledTimes(2));
    expect(screen.getByTestId('register-no-kernel')).toBeInTheDocument();
  });

  it('collapses a section', async () => {
    render(<Sidebar client={fakeClient()} notebook={null} />);
    const registry = await screen.findByTestId('section-registry');
    fireEvent.click(registry.querySelector('button')!);
    expect(screen.queryByTestId('model-versions')).toBeNull();
  });
});
