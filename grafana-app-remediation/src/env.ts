// What every page needs, injected (Grafana in the plugin, doubles in tests).
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { RemediationApi } from './api.js';
import { capabilities } from './roles.js';
import type { Capabilities, Role } from './types.js';

export interface AppEnv {
  api: RemediationApi;
  /** The signed-in user's role as Grafana's route check sees it. */
  role: Role | undefined;
  /** Grafana's sub path (config.appSubUrl) for links to dashboards. */
  subUrl: string;
  now: () => number;
  /** Refresh interval of the Overview page (ms); 0 = off. */
  refreshMs?: number;
}

export const EnvContext = createContext<AppEnv | null>(null);

export function useEnv(): AppEnv & { can: Capabilities } {
  const env = useContext(EnvContext);
  if (!env) throw new Error('EnvContext is missing');
  return { ...env, can: capabilities(env.role) };
}

export interface Loaded<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` on mount and whenever `deps` change; ignores answers that arrive after a newer request. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const seq = useRef(0);
  const [tick, setTick] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  useEffect(() => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    run().then(
      (data) => n === seq.current && setState({ data, loading: false }),
      (e: unknown) => n === seq.current && setState((s) => ({ data: s.data, error: e instanceof Error ? e : new Error(String(e)), loading: false })),
    );
  }, [run, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** One page of a list paged by before_id (the service's nextBeforeId). */
export interface Page<T> {
  items: T[];
  next: number | null;
}

export interface Paged<T> {
  /** The newest page, reloaded whenever `deps` change. */
  first: Loaded<Page<T>>;
  /** The first page and every older page appended by more(). */
  rows: T[];
  /** before_id of the next older page, null when there is none. */
  next: number | null;
  more: () => Promise<void>;
  loadingMore: boolean;
  moreError?: Error;
}

/** A list paged by before_id: `load()` its newest page when `deps` change; more() appends the next older page. */
export function usePaged<T>(load: (beforeId?: number) => Promise<Page<T>>, deps: unknown[]): Paged<T> {
  const first = useLoad(() => load(), deps);
  const [extra, setExtra] = useState<{ rows: T[]; next: number | null; loading: boolean; error?: Error }>({ rows: [], next: null, loading: false });
  // older pages belong to the previous filter: drop them with it
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => setExtra({ rows: [], next: null, loading: false }), deps);
  const rows = [...(first.data?.items ?? []), ...extra.rows];
  const next = extra.rows.length ? extra.next : (first.data?.next ?? null);
  const more = async () => {
    if (next === null) return;
    setExtra((e) => ({ ...e, loading: true }));
    try {
      const p = await load(next);
      setExtra((e) => ({ rows: [...e.rows, ...p.items], next: p.next, loading: false }));
    } catch (err) {
      setExtra((e) => ({ ...e, loading: false, error: err instanceof Error ? err : new Error(String(err)) }));
    }
  };
  return { first, rows, next, more, loadingMore: extra.loading, ...(extra.error ? { moreError: extra.error } : {}) };
}
