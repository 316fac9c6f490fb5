import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ProblemView } from './problem-view.js';

type Headers = Record<string, { description: string; schema: object }>;

export interface ProblemCatalog<Code extends string> {
  /** Metadata key the codes of a handler are kept under. */
  key: string;
  /** Each code's status. */
  statusOf: (code: Code) => number;
  /** Named examples of a code's problem+json answer. */
  examplesOf: (code: Code) => [name: string, example: { summary: string; value: object }][];
  /** Codes every operation may answer. */
  always: Code[];
  /** Headers an answer of a status carries (Retry-After, RateLimit…). */
  headers: Record<number, Headers>;
}

/**
 * An app's `@ApiProblems(...codes)`: documents an operation's error answers, one example per code,
 * grouped by status, as problem+json. Several uses on one operation add up.
 */
export function problemsDecorator<Code extends string>(catalog: ProblemCatalog<Code>) {
  return (...codes: Code[]): MethodDecorator =>
    (target, key, descriptor) => {
      const handler = descriptor.value as object;
      const all = new Set<Code>([
        ...((Reflect.getMetadata(catalog.key, handler) as Code[] | undefined) ?? catalog.always),
        ...codes,
      ]);
      Reflect.defineMetadata(catalog.key, [...all], handler);
      const byStatus = new Map<number, Code[]>();
      for (const code of all) {
        const status = catalog.statusOf(code);
        byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
      }
      for (const [status, group] of byStatus) {
        ApiResponse({
          status,
          description: group.map((c) => `\`${c}\``).join(', '),
          ...(catalog.headers[status] ? { headers: catalog.headers[status] } : {}),
          content: {
            'application/problem+json': {
              schema: { $ref: getSchemaPath(ProblemView) },
              examples: Object.fromEntries(group.flatMap(catalog.examplesOf)),
            },
          },
        })(target, key, descriptor);
      }
      ApiExtraModels(ProblemView)(target, key, descriptor);
      return descriptor;
    };
}
