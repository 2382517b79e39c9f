// Model wiring: the AI stage for models.dir, connected to the models
// collector; a missing or broken model runtime degrades to raw metrics.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { StandardRegistry } from '../metrics/catalogue.js';
import type { AiStage } from '../ai/stage.js';
import type { ModelStatus } from '../ai/runtime.js';

/** The default models.dir: exporter/models, next to this package's src/ or dist/. */
export function defaultModelsDir(): string {
  return fileURLToPath(new URL('../../models/', import.meta.url)).replace(/\/$/, '');
}

/**
 * The AI stage for models.dir. onnxruntime-node is imported lazily: an
 * exporter without it (or whose native addon does not load) serves the raw
 * metrics with optifiber_model_up 0, and says so once.
 */
export async function createModels(config: Config, log: Logger, metrics: StandardRegistry): Promise<{ ai?: AiStage; reload(): Promise<void> }> {
  const dir = resolve(config.models.dir ?? defaultModelsDir());
  try {
    const { createAiStage } = await import('../ai/stage.js');
    const ai = await createAiStage({ modelDir: dir, log, observeDuration: (m, s) => metrics.models.observe(m, s) });
    metrics.models.attach(() => ai.status());
    return { ai, reload: () => ai.reload() };
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    log.error({ dir, err: msg }, `ai: model runtime unavailable (${msg}); raw metrics continue without model outputs`);
    const down = (model: ModelStatus['model']): ModelStatus => ({ model, up: false, version: '', sha256: '', path: dir, lastLoadTimestampSeconds: 0, lastInferenceTimestampSeconds: 0, lastReloadSuccessful: false, samplesSkippedTotal: 0, error: msg });
    metrics.models.attach(() => [down('anomaly'), down('forecast')]);
    return { reload: async () => log.warn({ dir }, 'SIGHUP: model runtime unavailable, nothing to reload') };
  }
}
