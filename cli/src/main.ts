// `optifiber`: the command users type (npx optifiber ...). One table, three
// packages: the exporter's commands (exporter, start, top), training's
// (train, backtest) and the reports' (report), dispatched by the exporter's
// main(). This package exists so that the exporter depends on neither of the
// other two: each of them depends on the exporter, and only this thin layer
// sees all three.
import { COMMANDS as EXPORTER_COMMANDS, main as dispatch, type Command } from '@optifiber/exporter/cli';
import { TRAINING_COMMANDS } from '@optifiber/training/commands';
import { REPORT_COMMANDS } from '@optifiber/reports/command';

export const COMMANDS: Record<string, Command> = { ...EXPORTER_COMMANDS, ...TRAINING_COMMANDS, ...REPORT_COMMANDS };

export function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return dispatch(argv, env, COMMANDS);
}
