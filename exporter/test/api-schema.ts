// Validates real responses against docs/openapi.yaml (OpenAPI 3.1, JSON Schema 2020-12).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import Ajv2020Mod from 'ajv/dist/2020.js';
import addFormatsMod from 'ajv-formats';

const Ajv2020 = ((Ajv2020Mod as any).default ?? Ajv2020Mod) as typeof import('ajv/dist/2020.js').default;
const addFormats = ((addFormatsMod as any).default ?? addFormatsMod) as typeof import('ajv-formats').default;

const here = path.dirname(fileURLToPath(import.meta.url));
export const OPENAPI_PATH = path.resolve(here, '../../docs/openapi.yaml');
export const openapi = YAML.parse(readFileSync(OPENAPI_PATH, 'utf8'));

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'openapi', components: openapi.components });

/** Route template (e.g. /api/v1/sites/{site}/history), method, status -> validate the JSON body; returns errors or []. */
export function schemaErrors(route: string, method: string, status: number, body: unknown): string[] {
  const op = openapi.paths?.[route]?.[method.toLowerCase()];
  if (!op) return [`no operation ${method} ${route} in openapi.yaml`];
  let resp = op.responses?.[String(status)];
  if (!resp) return [`status ${status} not documented for ${method} ${route}`];
  if (resp.$ref) resp = openapi.components.responses[resp.$ref.split('/').pop()];
  const schema = resp.content?.['application/json']?.schema;
  if (!schema) return [`no application/json schema for ${method} ${route} ${status}`];
  const ref = schema.$ref ? `openapi${schema.$ref}` : undefined;
  const validate = ref ? ajv.getSchema(ref) : ajv.compile(schema);
  if (!validate) return [`cannot compile ${ref}`];
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

export function componentErrors(name: string, body: unknown): string[] {
  const validate = ajv.getSchema(`openapi#/components/schemas/${name}`);
  if (!validate) return [`no schema ${name}`];
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}
