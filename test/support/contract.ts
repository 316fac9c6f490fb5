import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ApiResponse } from './stack.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an OpenAPI document is untyped JSON
type Json = any;

/** Where each API's generated document is served, by the path prefix of its operations. */
const DOCUMENTS: [prefix: string, documentPath: string, optional: boolean][] = [
  ['/admin/api/', '/admin/docs-json', false],
  // A gateway started with DOCS_ENABLED=false serves no document: its answers go unchecked.
  ['/v1/', '/docs-json', true],
];

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  params: number;
  spec: Json;
}

/** One app's document, ready to check answers against: its operations and compiled schemas. */
export class Contract {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly operations: Operation[] = [];
  private readonly validators = new Map<object, ValidateFunction>();

  constructor(readonly document: Json) {
    addFormats.default(this.ajv);
    for (const format of ['int64', 'int32', 'password']) this.ajv.addFormat(format, true);
    // Every schema is closed: a field the document does not name is a failure.
    this.ajv.addSchema({ $id: 'document', components: closed(document.components ?? {}) });
    for (const [template, item] of Object.entries<Json>(document.paths ?? {})) {
      for (const [method, spec] of Object.entries<Json>(item)) {
        const params = (template.match(/\{[^}]+\}/g) ?? []).length;
        const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
        this.operations.push({ method: method.toUpperCase(), template, pattern, params, spec });
      }
    }
  }

  /** The documented operation a request reached (the most specific match), if any. */
  operation(method: string, path: string): Operation | undefined {
    const bare = path.split('?')[0];
    return this.operations
      .filter((o) => o.method === method.toUpperCase() && o.pattern.test(bare))
      .sort((a, b) => a.params - b.params)[0];
  }

  /** What is wrong with `res` as an answer of `method path`, by the document; empty when nothing is. */
  problems(method: string, path: string, res: Pick<ApiResponse, 'status' | 'headers' | 'body' | 'text'>) {
    const operation = this.operation(method, path);
    const what = `${method} ${path.slice(0, 120)} -> ${res.status}`;
    if (!operation) {
      // The router's own "no such route" is no operation's answer.
      return res.status === 404 ? [] : [`${what}: no documented operation`];
    }
    const response = operation.spec.responses?.[String(res.status)] ?? operation.spec.responses?.default;
    if (!response) return [`${what}: status not documented for ${operation.method} ${operation.template}`];
    const found: string[] = [];
    for (const [name, header] of Object.entries<Json>(response.headers ?? {})) {
      const value = res.headers.get(name);
      if (value === null) {
        if (header.required) found.push(`${what}: header ${name} is missing`);
        continue;
      }
      if (header.schema && !this.validator(header.schema)(value)) {
        found.push(`${what}: header ${name}: ${this.ajv.errorsText(this.validator(header.schema).errors)}`);
      }
    }
    const content = response.content as Record<string, { schema?: Json }> | undefined;
    if (!content) {
      if (res.text) found.push(`${what}: a body where the document says none`);
      return found;
    }
    const type = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    const media = content[type];
    if (!media) return [...found, `${what}: content type ${type || '(none)'} not documented`];
    if (media.schema?.format === 'binary') {
      if (res.text.length === 0) found.push(`${what}: an empty ${type} body`);
    } else if (media.schema) {
      const validate = this.validator(media.schema);
      if (!validate(res.body)) {
        found.push(`${what}: body does not match the document: ${this.ajv.errorsText(validate.errors)}`);
      }
    }
    return found;
  }

  private validator(schema: object): ValidateFunction {
    let validate = this.validators.get(schema);
    if (!validate) {
      validate = this.ajv.compile(closed(schema));
      this.validators.set(schema, validate);
    }
    return validate;
  }
}

/**
 * A copy of `schema` whose objects allow no property they do not name, with its references
 * pointing into the document registered as "document".
 */
function closed(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(closed);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries<Json>(schema)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) out.$ref = `document${value}`;
    else if (key === 'example' || key === 'examples') out[key] = value;
    else out[key] = closed(value);
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const contracts = new Map<string, Promise<Contract | null>>();

/** The document of the app at `baseUrl` that covers `path`, fetched once per app. */
export function contractFor(baseUrl: string, path: string): Promise<Contract | null> | null {
  const served = DOCUMENTS.find(([prefix]) => path.startsWith(prefix));
  if (!served) return null;
  const key = `${baseUrl}${served[1]}`;
  let contract = contracts.get(key);
  if (!contract) {
    contract = fetch(key).then(async (res) => {
      if (res.status === 404 && served[2]) return null;
      if (!res.ok) throw new Error(`${key} answered ${res.status}: every answer is checked against it`);
      return new Contract(await res.json());
    });
    contracts.set(key, contract);
  }
  return contract;
}

/**
 * Checks an answer the tests received against the generated document of the API that sent it:
 * a documented status, the documented headers, a body that matches the schema and names no field
 * the schema does not. Throws, failing the test that made the request, on any mismatch.
 */
export async function checkAgainstDocument(
  baseUrl: string,
  method: string,
  path: string,
  res: Pick<ApiResponse, 'status' | 'headers' | 'body' | 'text'>,
): Promise<void> {
  const contract = await contractFor(baseUrl, path);
  if (!contract) return;
  const problems = contract.problems(method, path, res);
  if (problems.length > 0)
    throw new Error(`the answer breaks the document:\n${problems.join('\n')}\n${res.text}`);
}
