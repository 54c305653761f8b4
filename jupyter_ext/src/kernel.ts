/**
 * Talking to the notebook's kernel: the code the sidebar runs there and how its printed answer is
 * read back. `KernelRunner` is the only thing that touches JupyterLab (see widget.tsx); everything
 * here is plain TypeScript.
 */
import {
  RUN_MIME,
  type KernelCandidates,
  type NotebookRunRecord,
  type RegisterRunRequest,
  type RegisterRunResult
} from './types';

/** Runs code in a kernel and resolves with what it printed on stdout (rejects on a Python error). */
export type KernelRunner = (code: string) => Promise<string>;

/**
 * A Python string literal holding `text`, escaped as `json.dumps` escapes it (ASCII only), so
 * that no quote, backslash, newline or non-ASCII character can break out of it.
 */
export function pythonStringLiteral(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\uffff]/g,
    char => '\\u' + char.charCodeAt(0).toString(16).padStart(4, '0')
  );
}

export const LIST_CANDIDATES_CODE =
  'from governance_jupyter.kernel import list_candidates as _governance_list_candidates\n' +
  '_governance_list_candidates()\n' +
  'del _governance_list_candidates';

export function registerRunCode(request: RegisterRunRequest): string {
  return (
    'from governance_jupyter.kernel import register_from_sidebar as _governance_register\n' +
    `_governance_register(${pythonStringLiteral(JSON.stringify(request))})\n` +
    'del _governance_register'
  );
}

/** The last line of `output` that parses as a JSON object (the kernel may print other lines first). */
export function lastJsonLine(output: string): Record<string, unknown> {
  const lines = output.split('\n').map(line => line.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i].startsWith('{')) {
      try {
        const value = JSON.parse(lines[i]);
        if (value && typeof value === 'object' && !Array.isArray(value)) {
          return value as Record<string, unknown>;
        }
      } catch {
        // not JSON: keep looking
      }
    }
  }
  throw new Error(output.trim() ? `Unexpected kernel output: ${output.trim().slice(0, 200)}` : 'The kernel printed nothing');
}

export async function listCandidates(run: KernelRunner): Promise<KernelCandidates> {
  const value = lastJsonLine(await run(LIST_CANDIDATES_CODE)) as Partial<KernelCandidates>;
  return { dataframes: value.dataframes ?? [], estimators: value.estimators ?? [] };
}

export async function registerRun(run: KernelRunner, request: RegisterRunRequest): Promise<RegisterRunResult> {
  const value = lastJsonLine(await run(registerRunCode(request)));
  if (value.ok === true) {
    return value as unknown as RegisterRunResult;
  }
  return { ok: false, error: typeof value.error === 'string' ? value.error : 'Registration failed' };
}

/** Adds `record` to a notebook's list of registered runs unless its run is already there. */
export function mergeRunRecord(records: NotebookRunRecord[], record: NotebookRunRecord): NotebookRunRecord[] {
  if (records.some(existing => existing.run_id === record.run_id)) {
    return records;
  }
  return [...records, record];
}

/** Reads the runs kept in a notebook's `governance` metadata, ignoring anything malformed. */
export function runsFromMetadata(metadata: unknown): NotebookRunRecord[] {
  const runs = (metadata as { runs?: unknown } | null | undefined)?.runs;
  if (!Array.isArray(runs)) {
    return [];
  }
  return runs.filter(
    (run): run is NotebookRunRecord => !!run && typeof run === 'object' && typeof run.run_id === 'number'
  );
}

/** The record the kernel would publish, built from a successful sidebar registration. */
export function recordFromResult(
  result: Extract<RegisterRunResult, { ok: true }>,
  modelName: string
): NotebookRunRecord {
  if (result.record && typeof result.record.run_id === 'number') {
    return result.record;
  }
  return {
    run_id: result.run.id,
    run_name: result.run.name,
    model_version_id: result.model_version?.id ?? null,
    model: modelName,
    version: result.model_version?.version ?? null,
    data_version_id: result.data_version?.id ?? null,
    notebook_path: result.run.notebook_path ?? '',
    git_commit: result.run.git_commit ?? ''
  };
}

/** The run record in a kernel message, if it is an output carrying one (RUN_MIME). */
export function publishedRun(msg: { header: { msg_type: string }; content: unknown }): NotebookRunRecord | null {
  const type = msg.header.msg_type;
  if (type !== 'display_data' && type !== 'execute_result' && type !== 'update_display_data') {
    return null;
  }
  const data = (msg.content as { data?: Record<string, unknown> } | null)?.data;
  const record = data?.[RUN_MIME] as NotebookRunRecord | undefined;
  return record && typeof record.run_id === 'number' ? record : null;
}
