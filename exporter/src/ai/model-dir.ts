// Where the committed models live (exporter/models), from src/ai under jest
// and from dist/ai when built. Serving code imports this; training
// (@optifiber/training, train.ts) writes there by default through it too.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function defaultModelDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');
}
