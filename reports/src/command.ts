// `optifiber report`: the reports package's entry in the optifiber command
// table (cli/ adds it to the exporter's). The CSV/PDF/scheduler code
// (cli.ts, and playwright-core behind it) is imported when the command runs,
// so the other commands load none of it.
import type { Command } from '@optifiber/exporter/cli';

export const REPORT_COMMANDS: Record<string, Command> = {
  report: {
    summary: 'reports: CSV export, weekly PDF, scheduler (optifiber report --help)',
    run: async (ctx) => {
      const { runReport } = await import('./cli.js');
      return runReport(ctx.argv);
    },
  },
};
