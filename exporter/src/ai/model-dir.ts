// Where the committed models live (exporter/models), from src/ai under jest
// and from dist/ai when built. Serving code imports this, never train.ts.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function defaultModelDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');
}
