/**
 * Follows the current notebook for the sidebar: its path, its kernel, the runs registered from it.
 * Runs are kept in the notebook's metadata (`governance.runs`), appended whenever the kernel
 * publishes a run record (from `%governance register-run` or from the sidebar), so they are saved
 * with the notebook.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { KernelMessage } from '@jupyterlab/services';
import { Signal, type ISignal } from '@lumino/signaling';
import { mergeRunRecord, publishedRun, runsFromMetadata, type KernelRunner } from './kernel';
import type { NotebookContext } from './components/Sidebar';
import type { NotebookRunRecord } from './types';

export const METADATA_KEY = 'governance';

/** Runs code in a session's kernel and collects its stdout; `own` records the request ids. */
export function sessionRunner(sessionContext: ISessionContext, own: Set<string>): KernelRunner {
  return async (code: string) => {
    const kernel = sessionContext.session?.kernel;
    if (!kernel) {
      throw new Error('The notebook has no running kernel');
    }
    const future = kernel.requestExecute({
      code,
      silent: true,
      store_history: false,
      allow_stdin: false,
      stop_on_error: false
    });
    own.add(future.msg.header.msg_id);
    let stdout = '';
    let error: string | null = null;
    future.onIOPub = msg => {
      if (KernelMessage.isStreamMsg(msg) && msg.content.name === 'stdout') {
        stdout += msg.content.text;
      } else if (KernelMessage.isErrorMsg(msg)) {
        error = `${msg.content.ename}: ${msg.content.evalue}`;
      }
    };
    const reply = await future.done;
    if (error || reply.content.status !== 'ok') {
      throw new Error(error ?? `The kernel answered ${reply.content.status}`);
    }
    return stdout;
  };
}

export function addRunToNotebook(panel: NotebookPanel, record: NotebookRunRecord): void {
  const model = panel.model;
  if (!model) {
    return;
  }
  const metadata = (model.getMetadata(METADATA_KEY) as Record<string, unknown> | undefined) ?? {};
  const runs = runsFromMetadata(metadata);
  const merged = mergeRunRecord(runs, record);
  if (merged !== runs) {
    model.setMetadata(METADATA_KEY, { ...metadata, runs: merged });
  }
}

interface Watched {
  own: Set<string>;
  activity: number;
  runner: KernelRunner;
}

export class NotebookWatcher {
  private _changed = new Signal<this, void>(this);
  private _watched = new WeakMap<NotebookPanel, Watched>();
  private _cached: { panel: NotebookPanel; key: string; context: NotebookContext } | null = null;

  constructor(private _tracker: INotebookTracker) {
    _tracker.widgetAdded.connect((_, panel) => this._watch(panel));
    _tracker.forEach(panel => this._watch(panel));
    _tracker.currentChanged.connect(() => this._changed.emit());
  }

  /** Emitted when the sidebar should render again. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The current notebook, for the sidebar (the same object until something changed). */
  context(): NotebookContext | null {
    const panel = this._tracker.currentWidget;
    if (!panel || !panel.model) {
      return null;
    }
    const watched = this._watch(panel);
    const hasKernel = !!panel.sessionContext.session?.kernel;
    const runs = runsFromMetadata(panel.model.getMetadata(METADATA_KEY));
    const key = [panel.context.path, hasKernel, watched.activity, JSON.stringify(runs)].join('|');
    if (this._cached && this._cached.panel === panel && this._cached.key === key) {
      return this._cached.context;
    }
    const context: NotebookContext = {
      path: panel.context.path,
      runs,
      kernel: hasKernel ? watched.runner : null,
      activity: watched.activity
    };
    this._cached = { panel, key, context };
    return context;
  }

  /** Keeps a run registered from the sidebar in the current notebook's metadata. */
  addRun(record: NotebookRunRecord): void {
    const panel = this._tracker.currentWidget;
    if (panel) {
      addRunToNotebook(panel, record);
    }
  }

  private _watch(panel: NotebookPanel): Watched {
    let watched = this._watched.get(panel);
    if (watched) {
      return watched;
    }
    const own = new Set<string>();
    watched = { own, activity: 0, runner: sessionRunner(panel.sessionContext, own) };
    this._watched.set(panel, watched);
    const state = watched;
    const emitIfCurrent = () => {
      if (this._tracker.currentWidget === panel) {
        this._changed.emit();
      }
    };
    panel.sessionContext.iopubMessage.connect((_, msg) => {
      const record = publishedRun(msg);
      if (record) {
        addRunToNotebook(panel, record);
      }
      // A cell finished: the kernel may hold new DataFrames or estimators.
      const parent = msg.parent_header as Partial<KernelMessage.IHeader>;
      if (
        KernelMessage.isStatusMsg(msg) &&
        msg.content.execution_state === 'idle' &&
        parent?.msg_type === 'execute_request' &&
        parent.msg_id &&
        !state.own.has(parent.msg_id)
      ) {
        state.activity += 1;
        emitIfCurrent();
      }
    });
    panel.sessionContext.kernelChanged.connect(emitIfCurrent);
    panel.sessionContext.statusChanged.connect(emitIfCurrent);
    panel.context.pathChanged.connect(emitIfCurrent);
    panel.context.ready.then(() => {
      panel.model?.metadataChanged.connect(emitIfCurrent);
      emitIfCurrent();
    });
    panel.disposed.connect(() => this._watched.delete(panel));
    return watched;
  }
}
