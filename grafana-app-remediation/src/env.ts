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
