import * as React from 'react';
import { fireEvent, render, screen, within } from '@testing-library/react';
import { LineageList, ModelVersionDetail } from '../components/ModelVersionDetail';
import { audit, drift, fakeClient, gate, lineage } from './fixtures';

describe('ModelVersionDetail', () => {
  it('shows the version, its metrics, checks and lineage', async () => {
    const client = fakeClient();
    const onBack = jest.fn();
    render(<ModelVersionDetail id={2} client={client} onBack={onBack} />);
    expect(screen.getByTestId('loading')).toBeInTheDocument();
    const detail = await screen.findByRole('heading', { level: 3 });
    expect(detail).toHaveTextContent('cancer-clf v2');
    expect(screen.getByTestId('stage-badge')).toHaveTextContent('staging');
    expect(screen.getByTestId('metrics')).toHaveTextContent('accuracy0.937');

    const fairness = screen.getByTestId('fairness-status');
    expect(fairness).toHaveAttribute('data-state', 'failed');
    expect(fairness).toHaveTextContent('sex × age_band');
    expect(fairness).toHaveTextContent('demographic parity ratio 0.71 < 0.8');
    const driftStatus = screen.getByTestId('drift-status');
    expect(driftStatus).toHaveAttribute('data-state', 'drifted');
    expect(driftStatus).toHaveTextContent('mean radius');
    expect(screen.getByTestId('gate-status')).toHaveTextContent('1 of 2 checks fail for production');

    const nodes = within(screen.getByTestId('lineage')).getAllByTestId('lineage-node');
    expect(nodes.map(n => n.textContent)).toEqual([
      'Databreast_cancer @ v1 · 569 rows',
      'Runtrain-12 #12 · commit a1b2c3d4input (train) ← breast_cancer @ v1',
      'Modelcancer-clf v2produced ← train-12 #12',
      'Decisions2 logged'
    ]);
    for (const fetch of ['modelVersion', 'lineage', 'latestFairnessAudit', 'latestDriftReport', 'gate'] as const) {
      expect(client[fetch]).toHaveBeenCalledWith(2);
    }
    fireEvent.click(screen.getByTestId('detail-back'));
    expect(onBack).toHaveBeenCalled();
  });

  it('says when there is no audit or report yet, and when all is well', async () => {
    const client = fakeClient({
      latestFairnessAudit: jest.fn(async () => null),
      latestDriftReport: jest.fn(async () => ({ ...drift, drifted: false, drifted_features: [] }))
    });
    render(<ModelVersionDetail id={2} client={client} onBack={jest.fn()} />);
    expect(await screen.findByTestId('fairness-status')).toHaveAttribute('data-state', 'none');
    expect(screen.getByTestId('fairness-status')).toHaveTextContent('No fairness audit yet');
    expect(screen.getByTestId('drift-status')).toHaveAttribute('data-state', 'stable');
    expect(screen.getByTestId('drift-status')).toHaveTextContent('no drift');
  });

  it('passes an audit that passed', async () => {
    const client = fakeClient({
      latestFairnessAudit: jest.fn(async () => ({ ...audit, passed: true, failed_checks: [] })),
      gate: jest.fn(async () => ({ ...gate, allowed: true, checks: gate.checks.map(c => ({ ...c, passed: true })) }))
    });
    render(<ModelVersionDetail id={2} client={client} onBack={jest.fn()} />);
    expect(await screen.findByTestId('fairness-status')).toHaveAttribute('data-state', 'passed');
    expect(screen.getByTestId('gate-status')).toHaveTextContent('All 2 checks pass for production');
  });

  it('shows what could not be loaded', async () => {
    const client = fakeClient({ gate: jest.fn(async () => Promise.reject(new Error('forbidden'))) });
    render(<ModelVersionDetail id={2} client={client} onBack={jest.fn()} />);
    expect(await screen.findByTestId('error')).toHaveTextContent('promotion gate: forbidden');
    expect(screen.getByTestId('fairness-status')).toBeInTheDocument();

    const failing = fakeClient({ modelVersion: jest.fn(async () => Promise.reject(new Error('Not found.'))) });
    render(<ModelVersionDetail id={9} client={failing} onBack={jest.fn()} />);
    expect(await screen.findByText(/Could not load model version #9: Not found\./)).toBeInTheDocument();
  });

  it('has an empty state for a version without lineage', () => {
    render(<LineageList lineage={{ root: 'model_version:2', nodes: [lineage.nodes[2]], edges: [] }} />);
    expect(screen.getByTestId('empty')).toHaveTextContent('No lineage recorded');
  });
});
