import * as React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import { NotebookRuns } from '../components/NotebookRuns';
import type { NotebookRunRecord } from '../types';
import { run } from './fixtures';

const record = (id: number, overrides: Partial<NotebookRunRecord> = {}): NotebookRunRecord => ({
  run_id: id,
  run_name: `train-${id}`,
  model_version_id: 100 + id,
  model: 'cancer-clf',
  version: id,
  data_version_id: 3,
  notebook_path: 'train.ipynb',
  git_commit: '0123456789abcdef',
  ...overrides
});

describe('NotebookRuns', () => {
  it('asks for a notebook when none is open', () => {
    render(<NotebookRuns notebookPath={null} records={[]} onOpenModelVersion={jest.fn()} />);
    expect(screen.getByTestId('notebook-runs-empty')).toHaveTextContent('Open a notebook');
  });

  it('explains how to register when the notebook has no runs', () => {
    render(<NotebookRuns notebookPath="train.ipynb" records={[]} onOpenModelVersion={jest.fn()} />);
    expect(screen.getByTestId('notebook-runs-empty')).toHaveTextContent('No runs registered from this notebook yet');
  });

  it('lists the runs newest first, with their model version, commit and live status', async () => {
    const onOpen = jest.fn();
    const fetchRun = jest.fn(async (id: number) => {
      if (id === 2) {
        throw new Error('Not found.');
      }
      return run(id);
    });
    render(
      <NotebookRuns
        notebookPath="train.ipynb"
        records={[record(1), record(2, { model_version_id: null, model: null, version: null })]}
        fetchRun={fetchRun}
        onOpenModelVersion={onOpen}
      />
    );
    const items = screen.getAllByTestId('notebook-run');
    expect(items.map(i => i.getAttribute('data-run-id'))).toEqual(['2', '1']);
    expect(items[1]).toHaveTextContent('cancer-clf v1');
    expect(items[1]).toHaveTextContent('01234567');
    expect(items[0]).toHaveTextContent('no model version');
    expect(await screen.findByText('finished')).toBeInTheDocument();
    expect(await screen.findByText('not found')).toBeInTheDocument();
    fireEvent.click(screen.getByTestId('notebook-run-model'));
    expect(onOpen).toHaveBeenCalledWith(101);
  });
});
