import { createClient, withQuery } from '../api';
import { audit, page } from './fixtures';

describe('withQuery', () => {
  it('encodes and drops empty values', () => {
    expect(withQuery('api/runs/', { project: 'a b', page_size: 5, x: null, y: undefined, z: '' })).toBe(
      'api/runs/?project=a%20b&page_size=5'
    );
    expect(withQuery('status')).toBe('status');
  });
});

describe('createClient', () => {
  it('asks the extension routes for each record', async () => {
    const paths: string[] = [];
    const fetchJson = jest.fn(async (path: string) => {
      paths.push(path);
      return path.startsWith('api/fairness-audits/') ? page([audit]) : page([]);
    });
    const client = createClient(fetchJson);
    await client.status();
    await client.runs('acme');
    await client.modelVersions(null);
    await client.lineage(4);
    await expect(client.latestFairnessAudit(4)).resolves.toEqual(audit);
    await expect(client.latestDriftReport(4)).resolves.toBeNull();
    await client.gate(4);
    await client.run(8);
    expect(paths).toEqual([
      'status',
      'api/runs/?page_size=200&project=acme',
      'api/model-versions/?page_size=200',
      'api/lineage/?node=model_version%3A4',
      'api/fairness-audits/?model_version=4&page_size=1',
      'api/drift-reports/?model_version=4&page_size=1',
      'api/model-versions/4/gate/',
      'api/runs/8/'
    ]);
  });
});

describe('updateCard', () => {
  it('PATCHes the version with the card fields only, as JSON', async () => {
    const fetchJson = jest.fn(async (_path: string, _init?: RequestInit) => ({ id: 4 }));
    const client = createClient(fetchJson);
    await client.updateCard(4, { limitations: 'adults only' });
    expect(fetchJson).toHaveBeenCalledWith('api/model-versions/4/', {
      method: 'PATCH',
      body: JSON.stringify({ limitations: 'adults only' }),
      headers: { 'Content-Type': 'application/json' }
    });
  });
});
