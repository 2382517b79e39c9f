// `optifiber train` and `optifiber backtest`: the training package's entries
// in the optifiber command table (cli/ adds them to the exporter's). Light on
// purpose: the summaries and help are here, the work is imported when the
// command runs, so `optifiber start` loads none of it.
import type { Command } from '@optifiber/exporter/cli';

const wantsHelp = (argv: string[]): boolean => argv.includes('--help') || argv.includes('-h');

export const TRAINING_COMMANDS: Record<string, Command> = {
  train: {
    summary: 'build the ONNX score head and the forecast model fitted on real traffic (deterministic)',
    run: async (ctx) => {
      if (wantsHelp(ctx.argv)) {
        ctx.stdout(TRAIN_HELP);
        return 0;
      }
      const { runTrain } = await import('./train.js');
      return runTrain(ctx.argv, (s) => ctx.stdout(s + '\n'));
    },
  },
  backtest: {
    summary: 'replay recorded data through the served pipeline: backtest anomaly|forecast --input F --output O',
    run: async (ctx) => {
      if (wantsHelp(ctx.argv)) {
        ctx.stdout(BACKTEST_HELP);
        return 0;
      }
      const { runBacktest } = await import('./backtest.js');
      return runBacktest(ctx.argv, (s) => ctx.stderr(s + '\n'));
    },
  },
};

const TRAIN_HELP = `usage: optifiber train [--out DIR] [--datasets DIR]

Build the served models and write anomaly.onnx, forecast.onnx and MODEL_CARD.md,
deterministically (same data, same bytes):
  anomaly.onnx   the score head (its constants are design choices; every site
                 learns its own normal online when served)
  forecast.onnx  ridge regression fitted on real traffic: the rows before the
                 test third of ../shared/datasets/isp-traffic/uk-backbone-5m.csv

  --out DIR       output directory (default: exporter/models of the repository)
  --datasets DIR  where the real data lives (default: ../shared/datasets)

The exporter loads the models from --models.dir (default exporter/models) and
reloads them on SIGHUP (a failed reload keeps the last good model). See
docs/ai.md and exporter/models/MODEL_CARD.md.
`;

const BACKTEST_HELP = `usage:
  optifiber backtest anomaly --input FILE --output OUT.csv [--models DIR] [--time-step 60s]
                             [--label-column NAME[,NAME...]] [--entity-column NAME]
  optifiber backtest forecast --input FILE --output OUT.csv [--models DIR]
                              [--refit [--horizon 15m] [--train-fraction 0.6667]]

Replay a history through the exporter's own pipeline and models, online (no
look-ahead): what the exporter would have served.

  inputs    the optical testbed format (Timestamp,Type,ID,BER,OSNR,...; one
            entity per ID); time,value; a wide time,<numeric columns...> CSV
            (delimiter , ; or tab, detected). Column names, case and
            punctuation ignored: label, anomaly, is_anomaly, attack, outlier,
            ground_truth (labels) and changepoint are never inputs; id, KPI ID,
            entity, machine, host, device... name each row's entity (one model
            per entity). With --time-step: index-only files (idx,...) and files
            with no time column (a lone value column, value,label: rows are
            numbered). An empty cell is a gap, never 0. Each entity's rows must
            be in time order.
  anomaly   output: timestamp,anomaly_score, one row per distinct timestamp, in
            input order; with an entity column timestamp,<entity>,anomaly_score,
            one row per input row
  forecast  output: timestamp,forecast,p10,p90 for every row: the served model
            and per-series conformal band, learning as it streams. --refit fits
            a new ridge on the rows before --train-fraction instead (comparison
            only; not what the exporter serves)
  --models DIR      directory holding the models (default: exporter/models)
  --time-step DUR   seconds between rows of an index-only or time-less file (60s, 5m)
  --label-column C  more label columns (names, or 1-based numbers in a file
                    without a header): kept out of the model
  --entity-column C the column naming each row's entity (else one named as above)

See docs/ai.md.
`;
