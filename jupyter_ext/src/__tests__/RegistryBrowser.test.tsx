import * as React from 'react';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { RegistryBrowser } from '../components/RegistryBrowser';
import { fakeClient } from './fixtures';

describe('RegistryBrowser', () => {
  it('lists model versions with their model name and stage badge, and opens one', async () => {
    const client = fakeClient();
    const onOpen = jest.fn();
    render(<RegistryBrowser client={client} project="acme" reloadKey={0} onOpenModelVersion={onOpen} />);
    const items = await screen.findAllByTestId('model-versions-item');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent('cancer-clf');
    expect(items[0]).toHaveTextContent('v2');
    expect(screen.getAllByTestId('stage-badge').map(b => b.textContent)).toEqual(['staging', 'production']);
    expect(client.modelVersions).toHaveBeenCalledWith('acme');
    fireEvent.click(items[1]);
    expect(onOpen).toHaveBeenCalledWith(1);
  });

  it('shows runs with notebook and commit, and datasets, searchable', async () => {
    render(<RegistryBrowser client={fakeClient()} project="acme" reloadKey={0} onOpenModelVersion={jest.fn()} />);
    fireEvent.click(screen.getByTestId('tab-runs'));
    const runs = await screen.findAllByTestId('runs-item');
    expect(runs[0]).toHaveTextContent('train-12');
    expect(runs[0]).toHaveTextContent('train.ipynb');
    expect(runs[0]).toHaveTextContent('a1b2c3d4');
    expect(runs[1]).toHaveTextContent('failed');
    expect(runs[2]).toHaveTextContent('MLflow · iris-governance'); // a run logged by a stock MLflow client
    fireEvent.change(screen.getByTestId('runs-search'), { target: { value: 'train.ipynb' } });
    expect(screen.getAllByTestId('runs-item')).toHaveLength(1);

    fireEvent.click(screen.getByTestId('tab-datasets'));
    const datasets = await screen.findAllByTestId('datasets-item');
    expect(datasets[0]).toHaveTextContent('breast_cancer');
    expect(datasets[0]).toHaveTextContent('personal data');
  });

  it('shows counts in the tabs and fetches again on reload', async () => {
    const client = fakeClient();
    const { rerender } = render(
      <RegistryBrowser client={client} project="acme" reloadKey={0} onOpenModelVersion={jest.fn()} />
    );
    await waitFor(() => expect(screen.getByTestId('tab-runs')).toHaveTextContent('Runs3'));
    rerender(<RegistryBrowser client={client} project="acme" reloadKey={1} onOpenModelVersion={jest.fn()} />);
    await waitFor(() => expect(client.runs).toHaveBeenCalledTimes(2));
  });

  it('shows a failed list as an error with retry', async () => {
    const client = fakeClient({ modelVersions: jest.fn(async () => Promise.reject(new Error('Service unavailable'))) });
    render(<RegistryBrowser client={client} project="acme" reloadKey={0} onOpenModelVersion={jest.fn()} />);
    expect(await screen.findByTestId('error')).toHaveTextContent('Service unavailable');
  });
});
