import {
  LIST_CANDIDATES_CODE,
  lastJsonLine,
  listCandidates,
  mergeRunRecord,
  publishedRun,
  pythonStringLiteral,
  recordFromResult,
  registerRun,
  registerRunCode,
  runsFromMetadata
} from '../kernel';
import type { NotebookRunRecord, RegisterRunRequest } from '../types';
import { run, version } from './fixtures';

const request: RegisterRunRequest = {
  model: 'clf',
  data: 'df',
  target: 'target',
  subject_column: null,
  dataset: 'breast "cancer"\n\\ ünïcode \u2028',
  model_name: "it's",
  metrics: { accuracy: 0.95 }
};

describe('pythonStringLiteral', () => {
  it('escapes quotes, backslashes, newlines and non-ASCII like json.dumps', () => {
    expect(pythonStringLiteral('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
    expect(pythonStringLiteral('é\u2028')).toBe('"\\u00e9\\u2028"');
    expect(pythonStringLiteral("'''")).toBe('"\'\'\'"');
  });

  it('yields a literal whose only line is itself (nothing can break out of it)', () => {
    const literal = pythonStringLiteral(JSON.stringify(request));
    expect(literal).not.toMatch(/[\n\r\u2028\u2029]/);
    expect(literal).toMatch(/^"[\x20-\x7e]*"$/);
    // A JSON string is a Python string literal here: decoding it twice gives the request back.
    expect(JSON.parse(JSON.parse(literal))).toEqual(request);
  });
});

describe('kernel code', () => {
  it('imports the kernel helpers under private names', () => {
    expect(LIST_CANDIDATES_CODE).toContain('from governance_jupyter.kernel import list_candidates');
    const code = registerRunCode(request);
    expect(code).toContain('from governance_jupyter.kernel import register_from_sidebar');
    expect(code.split('\n')).toHaveLength(3);
    expect(code).toContain(`(${pythonStringLiteral(JSON.stringify(request))})`);
  });

  it('reads the last JSON line of the output', () => {
    expect(lastJsonLine('warning: x\n{"a": 1}\n{"b": 2}\n')).toEqual({ b: 2 });
    expect(lastJsonLine('{"a": 1}\n{not json\n')).toEqual({ a: 1 });
    expect(() => lastJsonLine('')).toThrow('printed nothing');
    expect(() => lastJsonLine('Traceback...')).toThrow('Unexpected kernel output');
  });

  it('lists candidates through the runner', async () => {
    const runner = jest.fn(async () => '{"dataframes": [{"name": "df", "rows": 3, "columns": ["a"]}]}\n');
    await expect(listCandidates(runner)).resolves.toEqual({
      dataframes: [{ name: 'df', rows: 3, columns: ['a'] }],
      estimators: []
    });
    expect(runner).toHaveBeenCalledWith(LIST_CANDIDATES_CODE);
  });

  it('registers through the runner and passes errors on', async () => {
    const ok = { ok: true, run: run(5), model_version: version(3), data_version: { id: 9 } };
    await expect(registerRun(async () => JSON.stringify(ok), request)).resolves.toEqual(ok);
    await expect(registerRun(async () => '{"ok": false, "error": "no such DataFrame: df"}', request)).resolves.toEqual({
      ok: false,
      error: 'no such DataFrame: df'
    });
  });
});

describe('notebook run records (record from the kernel)', () => {
  it('prefers the record the kernel sent', () => {
    const record = {
      run_id: 5,
      run_name: 'x',
      model_version_id: 3,
      model: 'm',
      version: 3,
      data_version_id: 9,
      notebook_path: 'n.ipynb',
      git_commit: 'abc'
    };
    const result = { ok: true as const, run: run(5), model_version: version(3), data_version: { id: 9 } as any, record };
    expect(recordFromResult(result, 'other')).toBe(record);
  });
});

describe('notebook run records', () => {
  const record = (id: number): NotebookRunRecord => ({
    run_id: id,
    run_name: `r${id}`,
    model_version_id: 1,
    model: 'm',
    version: 1,
    data_version_id: 1,
    notebook_path: 'n.ipynb',
    git_commit: 'abc'
  });

  it('appends without duplicates by run id', () => {
    const one = [record(1)];
    expect(mergeRunRecord(one, { ...record(1), run_name: 'again' })).toBe(one);
    expect(mergeRunRecord(one, record(2)).map(r => r.run_id)).toEqual([1, 2]);
  });

  it('reads only well-formed runs from metadata', () => {
    expect(runsFromMetadata(undefined)).toEqual([]);
    expect(runsFromMetadata({ runs: 'x' })).toEqual([]);
    expect(runsFromMetadata({ runs: [record(1), null, { run_id: '2' }] })).toEqual([record(1)]);
  });

  it('builds the record from a sidebar registration', () => {
    const result = {
      ok: true as const,
      run: run(5, { notebook_path: 'a/b.ipynb', git_commit: 'deadbeef' }),
      model_version: version(3),
      data_version: { id: 9 } as any
    };
    expect(recordFromResult(result, 'cancer-clf')).toEqual({
      run_id: 5,
      run_name: 'train-5',
      model_version_id: 3,
      model: 'cancer-clf',
      version: 3,
      data_version_id: 9,
      notebook_path: 'a/b.ipynb',
      git_commit: 'deadbeef'
    });
  });
});

describe('publishedRun', () => {
  const record = { run_id: 3, run_name: 'r', model_version_id: 1, model: 'm', version: 1, data_version_id: 2, notebook_path: 'n.ipynb', git_commit: 'c' };
  it('finds the run record in display outputs only', () => {
    const data = { 'application/vnd.governance.run+json': record, 'text/plain': 'Registered run #3' };
    expect(publishedRun({ header: { msg_type: 'display_data' }, content: { data } })).toEqual(record);
    expect(publishedRun({ header: { msg_type: 'execute_result' }, content: { data } })).toEqual(record);
    expect(publishedRun({ header: { msg_type: 'stream' }, content: { text: 'x' } })).toBeNull();
    expect(publishedRun({ header: { msg_type: 'display_data' }, content: { data: { 'text/plain': 'x' } } })).toBeNull();
    expect(
      publishedRun({ header: { msg_type: 'display_data' }, content: { data: { 'application/vnd.governance.run+json': {} } } })
    ).toBeNull();
  });
});
