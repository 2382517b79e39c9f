export interface StubSite { name: string; cmdModules: number; cmdModulesMax: number; moduleCapacityBps: number }
export interface StubExporter { url: string; token: string; sites: Map<string, StubSite>; cmdAdds: { site: string; n: number }[]; stop(): Promise<void> }
export function startStubExporter(o: { names: string[]; token: string; applyDelayMs?: number }): Promise<StubExporter>;
