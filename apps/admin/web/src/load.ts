import { useEffect, useState } from 'react';
import { api } from './api';

/** Loads `path` (again every `refreshMs` if given): data, error and loading state. */
export function useLoad<T>(path: string | null, refreshMs?: number) {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    api<T>('GET', path)
      .then((data) => live && setState({ data, loading: false }))
      .catch((e: Error) => live && setState({ error: e.message, loading: false }));
    const timer = refreshMs ? setTimeout(() => setTick((t) => t + 1), refreshMs) : undefined;
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [path, refreshMs, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}
