import * as React from 'react';
import { errorMessage } from './api';

export type AsyncState<T> =
  | { status: 'loading' }
  | { status: 'ok'; value: T }
  | { status: 'error'; error: string };

/**
 * Runs `load` when a dependency changes (or `reload()` is called) and tracks its state; the answer
 * of a load that was overtaken by a newer one is dropped.
 */
export function useAsync<T>(
  load: () => Promise<T>,
  deps: React.DependencyList
): AsyncState<T> & { reload: () => void } {
  const [state, setState] = React.useState<AsyncState<T>>({ status: 'loading' });
  const [tick, setTick] = React.useState(0);
  React.useEffect(() => {
    let current = true;
    setState(previous => (previous.status === 'ok' ? previous : { status: 'loading' }));
    load().then(
      value => current && setState({ status: 'ok', value }),
      error => current && setState({ status: 'error', error: errorMessage(error) })
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = React.useCallback(() => setTick(t => t + 1), []);
  return { ...state, reload };
}
