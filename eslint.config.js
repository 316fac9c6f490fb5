// Lint: TypeScript rules plus Tally's layer rules, which fail the lint step when broken:
//   - libs/domain imports nothing of ours and no framework or I/O library;
//   - a lib never imports an app;
//   - an app never imports another app (apps talk through RabbitMQ or the database);
//   - a controller runs no SQL: it parses, calls a use case or a repository, and presents;
//   - only libs/ledger writes accounts (balances, status) and ledger_entries.
// Libraries are imported through their package aliases (#domain, #persistence, …), never by a
// relative path into another folder, so the rules below see every cross-folder import.
import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const root = path.dirname(new URL(import.meta.url).pathname);
const LIB_ALIASES = [
  '#domain',
  '#persistence',
  '#messaging',
  '#observability',
  '#http',
  '#ledger',
  '#config',
  '#receipts',
  '#payouts',
];
const FRAMEWORKS =
  /^(@nestjs\/|typeorm$|pg$|amqplib$|amqp-connection-manager$|nestjs-pino$|pino|fastify|prom-client$|node:(fs|net|http|https|child_process|dgram|dns|tls))/;

/** "apps/gateway" or "libs/domain" for a file or resolved import path, else null. */
function unitOf(absolute) {
  const rel = path.relative(root, absolute).split(path.sep);
  return (rel[0] === 'apps' || rel[0] === 'libs') && rel[1] ? `${rel[0]}/${rel[1]}` : null;
}

const layers = {
  meta: { type: 'problem', schema: [], messages: { broken: '{{why}}' } },
  create(context) {
    const unit = unitOf(context.filename);
    if (!unit) return {};
    const check = (node, source) => {
      if (typeof source !== 'string') return;
      const report = (why) => context.report({ node, messageId: 'broken', data: { why } });
      let target = null;
      if (source.startsWith('.')) target = unitOf(path.resolve(path.dirname(context.filename), source));
      else if (LIB_ALIASES.includes(source)) target = `libs/${source.slice(1)}`;
      else if (source.startsWith('#')) target = 'other';
      if (target && target !== unit && source.startsWith('.')) {
        return report(
          `${unit} reaches into ${target} by a relative path; import through its #alias (or not at all)`,
        );
      }
      if (unit === 'libs/domain') {
        if (target && target !== unit) return report('libs/domain imports nothing of ours');
        if (FRAMEWORKS.test(source)) return report(`libs/domain is pure: no framework or I/O (${source})`);
      }
      if (unit.startsWith('libs/') && target?.startsWith('apps/'))
        return report('a lib never imports an app');
      if (unit.startsWith('apps/') && target?.startsWith('apps/') && target !== unit) {
        return report('apps never import each other; they talk through RabbitMQ or the database');
      }
      if (target === 'other' && !source.startsWith('#test-support')) return report(`unknown alias ${source}`);
      if (source === '#test-support') return report('production code never imports test support');
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

/** `x.query(…)` or `x.createQueryBuilder(…)` in a *.controller.ts: SQL belongs in a repository. */
const noSqlInControllers = {
  meta: {
    type: 'problem',
    schema: [],
    messages: { sql: 'no SQL in a controller: put it in a repository ({{call}})' },
  },
  create(context) {
    if (!context.filename.endsWith('.controller.ts')) return {};
    return {
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier') return;
        if (!['query', 'createQueryBuilder'].includes(callee.property.name)) return;
        context.report({ node, messageId: 'sql', data: { call: `${callee.property.name}(…)` } });
      },
    };
  },
};

/**
 * SQL that writes accounts or ledger entries, in a string or template literal outside libs/ledger:
 * money moves through Ledger.apply only. Migrations define the tables; tests and the benchmark's
 * raw-SQL baseline are outside apps/ and libs/, so the rule does not look at them.
 */
const LEDGER_WRITES = [
  /\bUPDATE\s+(ONLY\s+)?accounts\b/i,
  /\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(ONLY\s+)?ledger_entries\b/i,
];
const onlyLedgerWritesMoney = {
  meta: {
    type: 'problem',
    schema: [],
    messages: { write: 'only libs/ledger writes balances and ledger entries: call Ledger ({{sql}})' },
  },
  create(context) {
    const unit = unitOf(context.filename);
    if (!unit || unit === 'libs/ledger' || context.filename.split(path.sep).includes('migrations')) return {};
    const check = (node, text) => {
      const found = LEDGER_WRITES.map((re) => re.exec(text)).find(Boolean);
      if (found) context.report({ node, messageId: 'write', data: { sql: found[0].replace(/\s+/g, ' ') } });
    };
    return {
      Literal: (node) => typeof node.value === 'string' && check(node, node.value),
      TemplateLiteral: (node) => check(node, node.quasis.map((q) => q.value.cooked ?? q.value.raw).join(' ')),
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'apps/admin/web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: {
      tally: {
        rules: {
          layers,
          'no-sql-in-controllers': noSqlInControllers,
          'only-ledger-writes-money': onlyLedgerWritesMoney,
        },
      },
    },
    rules: {
      'tally/layers': 'error',
      'tally/no-sql-in-controllers': 'error',
      'tally/only-ledger-writes-money': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Off on purpose: with emitDecoratorMetadata, Nest's constructor injection needs value imports.
      '@typescript-eslint/consistent-type-imports': 'off',
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', '**/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
  },
);
