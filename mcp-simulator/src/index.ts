export { startMcpSimulator, parseJobRequest, OPERATIONS } from './server.js';
export type { Job, JobState, McpSimulator, McpSimulatorOptions, SimStats } from './server.js';
export { FaultInjector, FAULT_KINDS, mulberry32, validateFaultConfig } from './faults.js';
export type { FaultConfig, FaultKind } from './faults.js';
